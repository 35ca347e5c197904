// What the signed-in administrator may do (GET /api/me/permissions), so that the pages hide what
// the hub would refuse. Hiding is a courtesy: every request is still checked by the hub.
import { get } from './api.js';

export const A = {
  devicesRead: 'Microsoft.Intune_ManagedDevices_Read',
  devicesUpdate: 'Microsoft.Intune_ManagedDevices_Update',
  orgRead: 'Microsoft.Intune_Organization_Read',
  orgUpdate: 'Microsoft.Intune_Organization_Update',
  rolesRead: 'Microsoft.Intune_Roles_Read',
  rolesCreate: 'Microsoft.Intune_Roles_Create',
  rolesUpdate: 'Microsoft.Intune_Roles_Update',
  rolesDelete: 'Microsoft.Intune_Roles_Delete',
  rolesAssign: 'Microsoft.Intune_Roles_Assign',
  enrollmentCreate: 'Microsoft.Intune_EnrollmentTokens_Create',
  auditRead: 'Microsoft.Intune_Audit_Read',
  raRead: 'Microsoft.Intune_RemoteAssistance_Read',
  raUpdate: 'Microsoft.Intune_RemoteAssistance_Update',
  raRequest: 'Microsoft.Intune_RemoteTasks_RequestRemoteAssistance',
  sendNotification: 'Microsoft.Intune_RemoteTasks_SendCustomNotification',
} as const;
export type Action = (typeof A)[keyof typeof A];

export interface Me {
  id: string;
  displayName: string;
  userPrincipalName: string;
  actions: { action: string; allDevices: boolean }[];
  blockedReason?: string;
}

let me: Me | undefined;

export async function loadMe(): Promise<Me> {
  me = await get<Me>('/api/me/permissions');
  return me;
}
export function currentUser(): Me | undefined {
  return me;
}
export function forgetMe(): void {
  me = undefined;
}
export function can(action: Action): boolean {
  return !!me?.actions.some((a) => a.action === action);
}
