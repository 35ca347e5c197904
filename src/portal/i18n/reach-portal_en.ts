<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="en_US">
<context>
    <name>Texts</name>
    <message>
        <source>Company Portal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote assistance request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your IT administrator is requesting control of this device for a remote assistance session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requested by %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requested by %1, %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your IT administrator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The supporter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting for %1 to connect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is waiting for your permission.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You did not allow the session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session expired before it started.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You ended the session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The supporter left the session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection to the remote assistance service was lost, so the session has ended. A new session is needed to continue.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session has ended.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is viewing this screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is controlling this screen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>That request has expired. Ask your IT administrator for a new session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>That request was already answered.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This device cannot take a session code yet: your IT administrator has not set up remote assistance.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>That is not a session code. It looks like s12-345-678: check it and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>That session is over or its code has expired. Ask the supporter for a new one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no session for that code. Check the code with the supporter.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another device has already joined that session.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Too many wrong codes. Wait a minute and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The remote assistance service cannot be reached. Check the network.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A remote assistance session is already open on this device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The company portal&apos;s service is not running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is waiting for you</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n notification(s) waiting for you</source>
        <translation>
            <numerusform>%n notification waiting for you</numerusform>
            <numerusform>%n notifications waiting for you</numerusform>
        </translation>
    </message>
    <message>
        <source>Waiting for the supporter to connect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting for your IT administrator to connect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You ended the session at %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ended the session at %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The connection to the remote assistance service was lost at %1, so the session has ended. A new session is needed to continue.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session ended at %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote assistance session ended</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session was ended for your safety: what was sent between this device and the supporter was changed on the way, or someone stood in between.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session was ended for your safety at %1: what was sent between this device and the supporter was changed on the way, or someone stood in between.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>reach::portal::AgentLink</name>
    <message>
        <source>The company portal&apos;s service did not answer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The company portal&apos;s service gave an answer the app cannot read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The company portal&apos;s service is not running.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>reach::portal::AllowDialog</name>
    <message>
        <source>Allow this session to start?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is connected and wants to see this screen.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Full control lets them use this device&apos;s mouse and keyboard. View only lets them see the screen but not use it. Nothing is shared until you choose.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Full control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Deny</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Full control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>View only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deny</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>If you do not answer, the session is denied in %1:%2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Code: %1 %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Verification code %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This session was started with a code, not by your organisation, so comparing codes is what protects you: ask %1 to read out the code on their screen. If it is different, choose Deny.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask %1 to read out the code on their screen. If it is different, choose Deny: someone may be between you.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>reach::portal::DesktopNotifications</name>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>reach::portal::PortalApp</name>
    <message>
        <source>Connected. The supporter will ask to see your screen.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accepted. Waiting for the supporter to connect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Declined. Nobody will connect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accept</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Company Portal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Get help with a code…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>End session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>reach::portal::PortalWindow</name>
    <message>
        <source>&amp;Language:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>As the system</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Notifications</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remote assistance session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Get help with a code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;End session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>for example s12-345-678</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The company portal&apos;s service is not running on this device, so nothing can reach you. Sign out and in again, or ask your IT administrator.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting to your organisation… Notifications arrive once connected.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>If someone from IT support is helping you on the phone, type the session code they read to you. Nothing is shared until you allow it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session codes can be used once your IT administrator has set up remote assistance for this device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accept</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decline</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Declined</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is waiting for you.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This device is not enrolled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not known while the service is not running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enrolled to:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Managed by:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device ID:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last check-in:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not connected: trying again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hide history (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show history (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your organisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hide details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device key:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>reach::portal::SessionBar</name>
    <message>
        <source>Remote assistance session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>View only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the supporter&apos;s control: they can still see the screen.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;End session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>End session</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
