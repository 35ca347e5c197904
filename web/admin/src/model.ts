// The hub's resources as the pages read them (the fields they use).
export interface ManagedDevice {
  // Reach's addition, on a single device: whether it can take a remote assistance session, and
  // the refusal's code (the same as requestRemoteAssistance's) when not.
  remoteAssistanceEligibility?: { eligible: boolean; reason: string | null };
  id: string;
  deviceName: string;
  managementAgent: string;
  managedDeviceOwnerType: string;
  complianceState: string;
  operatingSystem: string;
  osVersion: string | null;
  userPrincipalName: string | null;
  userDisplayName: string | null;
  userId: string | null;
  emailAddress: string | null;
  lastSyncDateTime: string;
  enrolledDateTime: string;
  deviceEnrollmentType: string;
  model: string | null;
  manufacturer: string | null;
  serialNumber: string | null;
  deviceType: string;
  azureADDeviceId: string;
  notes: string | null;
  remoteAssistanceSessionUrl: string | null;
  remoteAssistanceSessionErrorDetails: string | null;
  deviceActionResults: { actionName: string; actionState: string; startDateTime: string; lastUpdatedDateTime: string }[];
}

export interface RaSession {
  id: string;
  deviceId: string;
  deviceName: string;
  requester: { id: string; userPrincipalName: string };
  sessionCode: string;
  state: string;
  createdDateTime: string;
  validUntilDateTime: string | null;
  acceptedDateTime: string | null;
  allowedDateTime: string | null;
  viewOnly: boolean | null;
  connectedDateTime: string | null;
  endedDateTime: string | null;
  endReason: string | null;
  askedDateTime: string | null; // the user was asked to allow the session…
  answerDueDateTime: string | null; // …and may answer until then
  viewOnlyFromDateTime: string | null; // the user switched a running session to view only
  userAccepted: boolean | null;
  userAllowed: boolean | null;
  durationSeconds: number | null;
  // The device's signed record of the user's decision and of the end (docs/session-security.md).
  consentReceipt?: {
    signedByDevice: boolean;
    problem: string | null;
    decision: Record<string, unknown> | null;
    end: Record<string, unknown> | null;
  };
}

export interface Partner {
  id: string;
  displayName: string;
  onboardingUrl: string | null;
  onboardingStatus: string;
  lastConnectionDateTime: string;
  clientId: string | null;
  needsReauthorization: boolean;
  connectedAccount: PartnerAccount | null;
  authorizationUrl?: string;
  pendingAccount?: PartnerAccount;
}

// deviceManagement/remoteAssistanceSettings: the organisation's (Reach carries only blockH264).
export interface RemoteAssistanceSettings {
  id: string;
  blockH264: boolean; // sessions use Tight (lossless and JPEG) only, no H.264 video
}

export interface PartnerAccount {
  id: string;
  email: string;
  displayName: string;
  companyName: string;
}

export interface User {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string | null;
  accountEnabled: boolean;
  assignedLicenses: { skuId: string }[];
}

export interface Group {
  id: string;
  displayName: string;
  description: string | null;
}

export interface RoleDefinition {
  id: string;
  displayName: string;
  description: string | null;
  isBuiltIn: boolean;
  rolePermissions: { resourceActions: { allowedResourceActions: string[] }[] }[];
}

export interface RoleAssignment {
  id: string;
  displayName: string;
  description: string | null;
  members: string[];
  resourceScopes: string[];
  scopeType: string;
}

export const PLATFORMS = ['Windows', 'macOS', 'Linux', 'iOS', 'Android'];
export const OWNERSHIP = ['company', 'personal', 'unknown'];
export const ENROLLMENT_TYPES = ['userEnrollment', 'deviceEnrollmentManager', 'windowsAzureADJoin', 'windowsAutoEnrollment', 'appleBulkWithUser', 'appleBulkWithoutUser', 'windowsBulkUserless', 'unknown'];
