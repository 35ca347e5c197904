<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="nb_NO" sourcelanguage="en_US">
<context>
    <name>Texts</name>
    <message>
        <source>Company Portal</source>
        <translation>Firmaportal</translation>
    </message>
    <message>
        <source>Remote assistance request</source>
        <translation>Forespørsel om fjernhjelp</translation>
    </message>
    <message>
        <source>Your IT administrator is requesting control of this device for a remote assistance session.</source>
        <translation>IT-administratoren din ber om å få styre denne enheten i en fjernhjelpsøkt.</translation>
    </message>
    <message>
        <source>Requested by %1.</source>
        <translation>Forespurt av %1.</translation>
    </message>
    <message>
        <source>Requested by %1, %2.</source>
        <translation>Forespurt av %1, %2.</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Your IT administrator</source>
        <translation>IT-administratoren din</translation>
    </message>
    <message>
        <source>The supporter</source>
        <translation>Den som hjelper deg</translation>
    </message>
    <message>
        <source>Waiting for %1 to connect.</source>
        <translation>Venter på at %1 skal koble til.</translation>
    </message>
    <message>
        <source>%1 is waiting for your permission.</source>
        <translation>%1 venter på tillatelse fra deg.</translation>
    </message>
    <message>
        <source>You did not allow the session.</source>
        <translation>Du tillot ikke økten.</translation>
    </message>
    <message>
        <source>The session expired before it started.</source>
        <translation>Økten utløp før den startet.</translation>
    </message>
    <message>
        <source>You ended the session.</source>
        <translation>Du avsluttet økten.</translation>
    </message>
    <message>
        <source>The supporter left the session.</source>
        <translation>Den som hjalp deg, forlot økten.</translation>
    </message>
    <message>
        <source>The connection to the remote assistance service was lost, so the session has ended. A new session is needed to continue.</source>
        <translation>Forbindelsen til fjernhjelpstjenesten ble brutt, så økten er avsluttet. En ny økt trengs for å fortsette.</translation>
    </message>
    <message>
        <source>The session has ended.</source>
        <translation>Økten er avsluttet.</translation>
    </message>
    <message>
        <source>%1 is viewing this screen</source>
        <translation>%1 ser på denne skjermen</translation>
    </message>
    <message>
        <source>%1 is controlling this screen</source>
        <translation>%1 styrer denne skjermen</translation>
    </message>
    <message>
        <source>That request has expired. Ask your IT administrator for a new session.</source>
        <translation>Forespørselen er utløpt. Be IT-administratoren din om en ny økt.</translation>
    </message>
    <message>
        <source>That request was already answered.</source>
        <translation>Forespørselen er allerede besvart.</translation>
    </message>
    <message>
        <source>This device cannot take a session code yet: your IT administrator has not set up remote assistance.</source>
        <translation>Denne enheten kan ikke ta imot en øktkode ennå: IT-administratoren din har ikke satt opp fjernhjelp.</translation>
    </message>
    <message>
        <source>That is not a session code. It looks like s12-345-678: check it and try again.</source>
        <translation>Det er ikke en øktkode. Den ser ut som s12-345-678: sjekk den og prøv igjen.</translation>
    </message>
    <message>
        <source>That session is over or its code has expired. Ask the supporter for a new one.</source>
        <translation>Økten er over, eller koden er utløpt. Be den som hjelper deg, om en ny.</translation>
    </message>
    <message>
        <source>There is no session for that code. Check the code with the supporter.</source>
        <translation>Det finnes ingen økt med den koden. Sjekk koden med den som hjelper deg.</translation>
    </message>
    <message>
        <source>Another device has already joined that session.</source>
        <translation>En annen enhet er allerede koblet til den økten.</translation>
    </message>
    <message>
        <source>Too many wrong codes. Wait a minute and try again.</source>
        <translation>For mange feil koder. Vent et minutt og prøv igjen.</translation>
    </message>
    <message>
        <source>The remote assistance service cannot be reached. Check the network.</source>
        <translation>Får ikke kontakt med fjernhjelpstjenesten. Sjekk nettverket.</translation>
    </message>
    <message>
        <source>A remote assistance session is already open on this device.</source>
        <translation>En fjernhjelpsøkt er allerede åpen på denne enheten.</translation>
    </message>
    <message>
        <source>The company portal&apos;s service is not running.</source>
        <translation>Firmaportalens tjeneste kjører ikke.</translation>
    </message>
    <message>
        <source>Nothing is waiting for you</source>
        <translation>Ingenting venter på deg</translation>
    </message>
    <message numerus="yes">
        <source>%n notification(s) waiting for you</source>
        <translation>
            <numerusform>%n varsel venter på deg</numerusform>
            <numerusform>%n varsler venter på deg</numerusform>
        </translation>
    </message>
    <message>
        <source>Waiting for the supporter to connect.</source>
        <translation>Venter på at den som hjelper deg, skal koble til.</translation>
    </message>
    <message>
        <source>Waiting for your IT administrator to connect.</source>
        <translation>Venter på at IT-administratoren din skal koble til.</translation>
    </message>
    <message>
        <source>You ended the session at %1.</source>
        <translation>Du avsluttet økten kl. %1.</translation>
    </message>
    <message>
        <source>%1 ended the session at %2.</source>
        <translation>%1 avsluttet økten kl. %2.</translation>
    </message>
    <message>
        <source>The connection to the remote assistance service was lost at %1, so the session has ended. A new session is needed to continue.</source>
        <translation>Forbindelsen til fjernhjelpstjenesten ble brutt kl. %1, så økten er avsluttet. Det trengs en ny økt for å fortsette.</translation>
    </message>
    <message>
        <source>The session ended at %1.</source>
        <translation>Økten ble avsluttet kl. %1.</translation>
    </message>
    <message>
        <source>Remote assistance session ended</source>
        <translation>Fjernhjelpsøkten er avsluttet</translation>
    </message>
    <message>
        <source>The session was ended for your safety: what was sent between this device and the supporter was changed on the way, or someone stood in between.</source>
        <translation>Økten ble avsluttet for din sikkerhet: det som ble sendt mellom denne enheten og den som hjelper, ble endret underveis, eller noen sto imellom.</translation>
    </message>
    <message>
        <source>The session was ended for your safety at %1: what was sent between this device and the supporter was changed on the way, or someone stood in between.</source>
        <translation>Økten ble avsluttet for din sikkerhet kl. %1: det som ble sendt mellom denne enheten og den som hjelper, ble endret underveis, eller noen sto imellom.</translation>
    </message>
</context>
<context>
    <name>reach::portal::AgentLink</name>
    <message>
        <source>The company portal&apos;s service did not answer.</source>
        <translation>Firmaportalens tjeneste svarte ikke.</translation>
    </message>
    <message>
        <source>The company portal&apos;s service gave an answer the app cannot read.</source>
        <translation>Firmaportalens tjeneste ga et svar appen ikke kan lese.</translation>
    </message>
    <message>
        <source>The company portal&apos;s service is not running.</source>
        <translation>Firmaportalens tjeneste kjører ikke.</translation>
    </message>
</context>
<context>
    <name>reach::portal::AllowDialog</name>
    <message>
        <source>Allow this session to start?</source>
        <translation>Vil du tillate at økten starter?</translation>
    </message>
    <message>
        <source>%1 is connected and wants to see this screen.</source>
        <translation>%1 er koblet til og vil se denne skjermen.</translation>
    </message>
    <message>
        <source>Full control lets them use this device&apos;s mouse and keyboard. View only lets them see the screen but not use it. Nothing is shared until you choose.</source>
        <translation>Full kontroll lar dem bruke musen og tastaturet på denne enheten. Bare visning lar dem se skjermen, men ikke bruke den. Ingenting deles før du velger.</translation>
    </message>
    <message>
        <source>&amp;Full control</source>
        <translation>&amp;Full kontroll</translation>
    </message>
    <message>
        <source>&amp;View only</source>
        <translation>&amp;Bare visning</translation>
    </message>
    <message>
        <source>&amp;Deny</source>
        <translation>&amp;Avslå</translation>
    </message>
    <message>
        <source>Full control</source>
        <translation>Full kontroll</translation>
    </message>
    <message>
        <source>View only</source>
        <translation>Bare visning</translation>
    </message>
    <message>
        <source>Deny</source>
        <translation>Avslå</translation>
    </message>
    <message>
        <source>If you do not answer, the session is denied in %1:%2.</source>
        <translation>Hvis du ikke svarer, avslås økten om %1:%2.</translation>
    </message>
    <message>
        <source>Code: %1 %2</source>
        <translation>Kode: %1 %2</translation>
    </message>
    <message>
        <source>Verification code %1</source>
        <translation>Kontrollkode %1</translation>
    </message>
    <message>
        <source>This session was started with a code, not by your organisation, so comparing codes is what protects you: ask %1 to read out the code on their screen. If it is different, choose Deny.</source>
        <translation>Denne økten ble startet med en kode, ikke av organisasjonen din, så det er sammenligningen av kodene som beskytter deg: be %1 lese opp koden på skjermen sin. Er den annerledes, velg Avslå.</translation>
    </message>
    <message>
        <source>Ask %1 to read out the code on their screen. If it is different, choose Deny: someone may be between you.</source>
        <translation>Be %1 lese opp koden på skjermen sin. Er den annerledes, velg Avslå: noen kan stå mellom dere.</translation>
    </message>
</context>
<context>
    <name>reach::portal::DesktopNotifications</name>
    <message>
        <source>Open</source>
        <translation>Åpne</translation>
    </message>
</context>
<context>
    <name>reach::portal::PortalApp</name>
    <message>
        <source>Connected. The supporter will ask to see your screen.</source>
        <translation>Koblet til. Den som hjelper deg, vil be om å se skjermen din.</translation>
    </message>
    <message>
        <source>Accepted. Waiting for the supporter to connect.</source>
        <translation>Godtatt. Venter på at den som hjelper deg, kobler til.</translation>
    </message>
    <message>
        <source>Declined. Nobody will connect.</source>
        <translation>Avslått. Ingen kobler til.</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>Godta</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>Avslå</translation>
    </message>
    <message>
        <source>Open Company Portal</source>
        <translation>Åpne Firmaportal</translation>
    </message>
    <message>
        <source>Get help with a code…</source>
        <translation>Få hjelp med en kode …</translation>
    </message>
    <message>
        <source>End session</source>
        <translation>Avslutt økten</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Avslutt</translation>
    </message>
</context>
<context>
    <name>reach::portal::PortalWindow</name>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Språk:</translation>
    </message>
    <message>
        <source>As the system</source>
        <translation>Som systemet</translation>
    </message>
    <message>
        <source>Notifications</source>
        <translation>Varsler</translation>
    </message>
    <message>
        <source>Remote assistance session</source>
        <translation>Fjernhjelpsøkt</translation>
    </message>
    <message>
        <source>Get help with a code</source>
        <translation>Få hjelp med en kode</translation>
    </message>
    <message>
        <source>This device</source>
        <translation>Denne enheten</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Koble til</translation>
    </message>
    <message>
        <source>&amp;End session</source>
        <translation>Avslutt ø&amp;kten</translation>
    </message>
    <message>
        <source>for example s12-345-678</source>
        <translation>for eksempel s12-345-678</translation>
    </message>
    <message>
        <source>Session code</source>
        <translation>Øktkode</translation>
    </message>
    <message>
        <source>The company portal&apos;s service is not running on this device, so nothing can reach you. Sign out and in again, or ask your IT administrator.</source>
        <translation>Firmaportalens tjeneste kjører ikke på denne enheten, så ingenting kan nå deg. Logg av og på igjen, eller spør IT-administratoren din.</translation>
    </message>
    <message>
        <source>Connecting to your organisation… Notifications arrive once connected.</source>
        <translation>Kobler til organisasjonen … Varsler kommer når forbindelsen er oppe.</translation>
    </message>
    <message>
        <source>If someone from IT support is helping you on the phone, type the session code they read to you. Nothing is shared until you allow it.</source>
        <translation>Hvis noen fra IT-støtte hjelper deg på telefonen, skriver du inn øktkoden de leser opp. Ingenting deles før du tillater det.</translation>
    </message>
    <message>
        <source>Session codes can be used once your IT administrator has set up remote assistance for this device.</source>
        <translation>Øktkoder kan brukes når IT-administratoren din har satt opp fjernhjelp for denne enheten.</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>Godta</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>Avslå</translation>
    </message>
    <message>
        <source>Accepted</source>
        <translation>Godtatt</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>Avslått</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>Utløpt</translation>
    </message>
    <message>
        <source>Nothing is waiting for you.</source>
        <translation>Ingenting venter på deg.</translation>
    </message>
    <message>
        <source>This device is not enrolled.</source>
        <translation>Denne enheten er ikke registrert.</translation>
    </message>
    <message>
        <source>Not known while the service is not running.</source>
        <translation>Ukjent så lenge tjenesten ikke kjører.</translation>
    </message>
    <message>
        <source>Enrolled to:</source>
        <translation>Registrert på:</translation>
    </message>
    <message>
        <source>Managed by:</source>
        <translation>Administreres av:</translation>
    </message>
    <message>
        <source>Device ID:</source>
        <translation>Enhets-ID:</translation>
    </message>
    <message>
        <source>Last check-in:</source>
        <translation>Siste innsjekking:</translation>
    </message>
    <message>
        <source>Not yet</source>
        <translation>Ikke ennå</translation>
    </message>
    <message>
        <source>Not connected: trying again</source>
        <translation>Ikke tilkoblet: prøver igjen</translation>
    </message>
    <message>
        <source>Hide history (%1)</source>
        <translation>Skjul historikk (%1)</translation>
    </message>
    <message>
        <source>Show history (%1)</source>
        <translation>Vis historikk (%1)</translation>
    </message>
    <message>
        <source>Your organisation</source>
        <translation>Organisasjonen din</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Tilkoblet</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Kobler til …</translation>
    </message>
    <message>
        <source>Hide details</source>
        <translation>Skjul detaljer</translation>
    </message>
    <message>
        <source>Show details</source>
        <translation>Vis detaljer</translation>
    </message>
    <message>
        <source>Server:</source>
        <translation>Server:</translation>
    </message>
    <message>
        <source>Device key:</source>
        <translation>Enhetsnøkkel:</translation>
    </message>
</context>
<context>
    <name>reach::portal::SessionBar</name>
    <message>
        <source>Remote assistance session</source>
        <translation>Fjernhjelpsøkt</translation>
    </message>
    <message>
        <source>&amp;View only</source>
        <translation>&amp;Bare visning</translation>
    </message>
    <message>
        <source>View only</source>
        <translation>Bare visning</translation>
    </message>
    <message>
        <source>Stop the supporter&apos;s control: they can still see the screen.</source>
        <translation>Stopp kontrollen til den som hjelper deg: de kan fortsatt se skjermen.</translation>
    </message>
    <message>
        <source>&amp;End session</source>
        <translation>Avslutt ø&amp;kten</translation>
    </message>
    <message>
        <source>End session</source>
        <translation>Avslutt økten</translation>
    </message>
</context>
</TS>
