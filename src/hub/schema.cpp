#include "hub/schema.h"

namespace reach::hub {

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1,
       "initial",
       {
           "CREATE TABLE organization ("
           " id TEXT PRIMARY KEY, display_name TEXT NOT NULL,"
           " allow_unlicensed_admins INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)",

           "CREATE TABLE users ("
           " id TEXT PRIMARY KEY, display_name TEXT NOT NULL,"
           " user_principal_name TEXT NOT NULL, upn_key TEXT NOT NULL UNIQUE, mail TEXT,"
           " password_hash TEXT, account_enabled INTEGER NOT NULL DEFAULT 1,"
           " licensed INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)",

           "CREATE TABLE groups_ ("
           " id TEXT PRIMARY KEY, display_name TEXT NOT NULL, description TEXT,"
           " created_at BIGINT NOT NULL)",

           "CREATE TABLE group_members ("
           " group_id TEXT NOT NULL REFERENCES groups_(id) ON DELETE CASCADE,"
           " member_id TEXT NOT NULL, member_type TEXT NOT NULL,"
           " PRIMARY KEY (group_id, member_id))",
           "CREATE INDEX group_members_member ON group_members (member_id)",

           "CREATE TABLE role_definitions ("
           " id TEXT PRIMARY KEY, display_name TEXT NOT NULL, description TEXT,"
           " is_built_in INTEGER NOT NULL, allowed_actions TEXT NOT NULL,"
           " created_at BIGINT NOT NULL)",

           "CREATE TABLE role_assignments ("
           " id TEXT PRIMARY KEY, display_name TEXT NOT NULL, description TEXT,"
           " role_definition_id TEXT NOT NULL REFERENCES role_definitions(id),"
           " scope_type TEXT NOT NULL, created_at BIGINT NOT NULL)",
           "CREATE TABLE role_assignment_members ("
           " assignment_id TEXT NOT NULL REFERENCES role_assignments(id) ON DELETE CASCADE,"
           " member_id TEXT NOT NULL, PRIMARY KEY (assignment_id, member_id))",
           "CREATE TABLE role_assignment_scopes ("
           " assignment_id TEXT NOT NULL REFERENCES role_assignments(id) ON DELETE CASCADE,"
           " group_id TEXT NOT NULL, PRIMARY KEY (assignment_id, group_id))",

           "CREATE TABLE sessions ("
           " token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id)"
           " ON DELETE CASCADE, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",

           "CREATE TABLE api_tokens ("
           " token_hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
           " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
           " created_at BIGINT NOT NULL)",

           "CREATE TABLE enrollment_tokens ("
           " id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE,"
           " user_id TEXT REFERENCES users(id) ON DELETE CASCADE,"
           " enrollment_type TEXT NOT NULL, ownership TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
           " revoked INTEGER NOT NULL DEFAULT 0)",

           "CREATE TABLE devices ("
           " id TEXT PRIMARY KEY, device_name TEXT NOT NULL, user_id TEXT,"
           " operating_system TEXT NOT NULL, os_version TEXT, model TEXT, manufacturer TEXT,"
           " serial_number TEXT, device_type TEXT NOT NULL, sku_family TEXT,"
           " owner_type TEXT NOT NULL, enrollment_type TEXT NOT NULL,"
           " compliance_state TEXT NOT NULL, management_agent TEXT NOT NULL,"
           " azure_ad_device_id TEXT NOT NULL, notes TEXT,"
           " enrolled_at BIGINT NOT NULL, last_sync_at BIGINT NOT NULL,"
           " credential_hash TEXT NOT NULL UNIQUE,"
           " ra_session_url TEXT, ra_error_details TEXT)",
           "CREATE INDEX devices_user ON devices (user_id)",

           "CREATE TABLE audit_events ("
           " seq BIGINT PRIMARY KEY, id TEXT NOT NULL, at BIGINT NOT NULL,"
           " activity TEXT NOT NULL, result TEXT NOT NULL,"
           " actor_type TEXT NOT NULL, actor_id TEXT, actor_name TEXT, ip_address TEXT,"
           " target_type TEXT, target_id TEXT, target_name TEXT, details TEXT)",
       }},
      {2,
       "agent push channel and notification outbox",
       {
           "ALTER TABLE devices ADD COLUMN channel_connected_at BIGINT",

           // The outbox: a notification is sent on every channel connect until the agent has
           // it (received_at), and never after expires_at.
           "CREATE TABLE device_notifications ("
           " id TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
           " kind TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, data TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, received_at BIGINT,"
           " answer TEXT, answered_at BIGINT)",
           "CREATE INDEX device_notifications_pending ON device_notifications (device_id, "
           "received_at)",

           // What agents reported, once per (device, ref): answers and session events.
           "CREATE TABLE device_events ("
           " device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
           " ref TEXT NOT NULL, notification_id TEXT NOT NULL, event TEXT NOT NULL,"
           " detail TEXT, at BIGINT NOT NULL, PRIMARY KEY (device_id, ref))",
           "CREATE INDEX device_events_notification ON device_events (notification_id)",
       }},
      {3,
       "remote assistance connector and sessions",
       {
           // The one partner (the relay). Secrets are sealed with the data directory's key.
           "CREATE TABLE ra_partners ("
           " id TEXT PRIMARY KEY, display_name TEXT NOT NULL, relay_url TEXT,"
           " client_id TEXT, client_secret TEXT, status TEXT NOT NULL,"
           " onboarding_expires_at BIGINT, pending_state TEXT, pending_verifier TEXT,"
           " pending_user_id TEXT, access_token TEXT, access_expires_at BIGINT,"
           " refresh_token TEXT, needs_reauth INTEGER NOT NULL DEFAULT 0,"
           " last_connection_at BIGINT, updated_at BIGINT NOT NULL)",
           "INSERT INTO ra_partners (id, display_name, status, updated_at) VALUES"
           " ('6f0c1bde-5a43-4c1e-9a6e-7d3b8e2f0a11', 'Reach relay', 'notOnboarded', 0)",

           "CREATE TABLE ra_sessions ("
           " id TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
           " requester_id TEXT NOT NULL, requester_name TEXT NOT NULL, code TEXT NOT NULL,"
           " supporter_link TEXT NOT NULL, notification_id TEXT NOT NULL, state TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, valid_until BIGINT NOT NULL, accepted_at BIGINT,"
           " allowed_at BIGINT, view_only INTEGER, connected_at BIGINT, ended_at BIGINT,"
           " end_reason TEXT)",
           "CREATE INDEX ra_sessions_device ON ra_sessions (device_id, created_at)",
           "CREATE INDEX ra_sessions_notification ON ra_sessions (notification_id)",

           "CREATE TABLE device_action_results ("
           " device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
           " action_name TEXT NOT NULL, action_state TEXT NOT NULL, started_at BIGINT NOT NULL,"
           " updated_at BIGINT NOT NULL, PRIMARY KEY (device_id, action_name))",
       }},
      {4,
       "supporter links only sealed, in ra_sessions",
       {
           // The supporter link is a bearer credential: it was kept in clear here. It lives on,
           // sealed, in ra_sessions.supporter_link and is shown only to those who may use it.
           "ALTER TABLE devices DROP COLUMN ra_session_url",
       }},
      {5,
       "device list sort orders and search",
       {
           // The admin center's All devices sorts by name (as a person reads it) and by last
           // check-in; with the id as the tie-break these indexes serve each page directly.
           "CREATE INDEX devices_name_order ON devices (lower(device_name), id)",
           "CREATE INDEX devices_sync_order ON devices (last_sync_at, id)",
           // The search box: startswith() on the serial number, case-insensitive.
           "CREATE INDEX devices_serial_prefix ON devices (lower(serial_number))",
       }},
      {6,
       "audit sequence numbers from the store",
       // SQLite: an AUTOINCREMENT rowid (never reused); the table is rebuilt to get one.
       {
           "CREATE TABLE audit_events_next ("
           " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, at BIGINT NOT NULL,"
           " activity TEXT NOT NULL, result TEXT NOT NULL,"
           " actor_type TEXT NOT NULL, actor_id TEXT, actor_name TEXT, ip_address TEXT,"
           " target_type TEXT, target_id TEXT, target_name TEXT, details TEXT)",
           "INSERT INTO audit_events_next SELECT seq, id, at, activity, result, actor_type,"
           " actor_id, actor_name, ip_address, target_type, target_id, target_name, details"
           " FROM audit_events",
           "DROP TABLE audit_events",
           "ALTER TABLE audit_events_next RENAME TO audit_events",
       },
       // PostgreSQL: an identity column, continuing after the rows already there.
       {
           "ALTER TABLE audit_events ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY",
           "SELECT setval(pg_get_serial_sequence('audit_events', 'seq'),"
           " (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events), false)",
       }},
      {7,
       "connector token refresh time",
       {
           "ALTER TABLE ra_partners ADD COLUMN access_refresh_at BIGINT",
       }},
      {8,
       "sign-in throttles in the store, shared by every node",
       {
           "CREATE TABLE throttles ("
           " scope TEXT NOT NULL, key_hash TEXT NOT NULL, failures INTEGER NOT NULL,"
           " blocked_until BIGINT NOT NULL, last_failure BIGINT NOT NULL,"
           " refusal_noted_for BIGINT NOT NULL, PRIMARY KEY (scope, key_hash))",
           "CREATE INDEX throttles_age ON throttles (scope, last_failure)",
       }},
      {9,
       "device list filters on indexes",
       // An equality filter on one of these, in the default order (id), reads only the rows it
       // returns instead of scanning every device.
       {
           "CREATE INDEX devices_os ON devices (operating_system, id)",
           "CREATE INDEX devices_compliance ON devices (compliance_state, id)",
           "CREATE INDEX devices_agent ON devices (management_agent, id)",
           "CREATE INDEX devices_enrollment ON devices (enrollment_type, id)",
           "CREATE INDEX devices_owner ON devices (owner_type, id)",
           "CREATE INDEX devices_type ON devices (device_type, id)",
       }},
      {10,
       "the pending onboarding's redirect URI",
       {
           "ALTER TABLE ra_partners ADD COLUMN pending_redirect_uri TEXT",
       }},
      {11,
       "the outbox sweep reads recent notifications by an index",
       {
           "CREATE INDEX device_notifications_created ON device_notifications (created_at)",
       }},
      {12,
       "a version of the data device lists read, for the page cache",
       // Advanced by the database itself on every change to a table a device list reads (the
       // devices; their users, action results and remote assistance sessions; the group
       // memberships that scope an operator), whichever connection or process makes it. The page
       // cache (hub/page_cache.h) keeps a page only for the version it was read at. SQLite only:
       // on PostgreSQL one counter row written by every device change would make concurrent
       // serializable transactions abort each other, and the nodes read the store on every list.
       {
           "CREATE TABLE data_versions (name TEXT PRIMARY KEY, version BIGINT NOT NULL)",
           "INSERT INTO data_versions (name, version) VALUES ('deviceList', 0)",
           "CREATE TRIGGER devices_insert_version AFTER INSERT ON devices BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER devices_update_version AFTER UPDATE ON devices BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER devices_delete_version AFTER DELETE ON devices BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER users_insert_version AFTER INSERT ON users BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER users_update_version AFTER UPDATE ON users BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER users_delete_version AFTER DELETE ON users BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER device_action_results_insert_version AFTER INSERT ON "
           "device_action_results BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER device_action_results_update_version AFTER UPDATE ON "
           "device_action_results BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER device_action_results_delete_version AFTER DELETE ON "
           "device_action_results BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER ra_sessions_insert_version AFTER INSERT ON ra_sessions BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER ra_sessions_update_version AFTER UPDATE ON ra_sessions BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER ra_sessions_delete_version AFTER DELETE ON ra_sessions BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER group_members_insert_version AFTER INSERT ON group_members BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER group_members_update_version AFTER UPDATE ON group_members BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
           "CREATE TRIGGER group_members_delete_version AFTER DELETE ON group_members BEGIN"
           " UPDATE data_versions SET version = version + 1 WHERE name = 'deviceList'; END",
       },
       {
           "CREATE TABLE data_versions (name TEXT PRIMARY KEY, version BIGINT NOT NULL)",
       }},
      {13,
       "the onboarding bound to its browser, and the consenting account confirmed",
       // pending_browser: SHA-256 of the onboarding cookie's nonce; pending_tokens (sealed) and
       // pending_account: a grant waiting for the administrator to confirm whose it is;
       // connected_account: whose grant the connector uses.
       {
           "ALTER TABLE ra_partners ADD COLUMN pending_browser TEXT",
           "ALTER TABLE ra_partners ADD COLUMN pending_tokens TEXT",
           "ALTER TABLE ra_partners ADD COLUMN pending_account TEXT",
           "ALTER TABLE ra_partners ADD COLUMN connected_account TEXT",
       }},
      {14,
       "when the user was asked to allow a session, until when they may answer, and when they "
       "switched it to view only",
       {
           "ALTER TABLE ra_sessions ADD COLUMN asked_at BIGINT",
           "ALTER TABLE ra_sessions ADD COLUMN answer_due BIGINT",
           "ALTER TABLE ra_sessions ADD COLUMN view_only_at BIGINT",
       }},
      {15,
       "the organisation's remote assistance settings",
       // One row (Graph's remoteAssistanceSettings). block_h264: the agents' screen streams may
       // not use H.264.
       {
           "CREATE TABLE ra_settings ("
           " id TEXT PRIMARY KEY, block_h264 INTEGER NOT NULL DEFAULT 0,"
           " updated_at BIGINT NOT NULL)",
           "INSERT INTO ra_settings (id, block_h264, updated_at) VALUES"
           " ('46a44b12-d46b-4f6c-a854-2972af56864b', 0, 0)",
       }},
      {16,
       "the devices' end-to-end keys",
       // The public half of the device's Ed25519 key (base64url of 32 bytes), registered at
       // enrollment (or the first check-in of a device enrolled before): the supporter link
       // carries its fingerprint, so that the viewer takes no picture from another key
       // (docs/session-security.md).
       {
           "ALTER TABLE devices ADD COLUMN e2e_public_key TEXT",
       }},
      {17,
       "consent receipts the devices sign",
       // The receipts (link/receipt.h) as the device sent them: the user's decision and the end.
       // receipt_problem: why one is not trusted (its signature, another key, another session).
       {
           "ALTER TABLE ra_sessions ADD COLUMN decision_receipt TEXT",
           "ALTER TABLE ra_sessions ADD COLUMN end_receipt TEXT",
           "ALTER TABLE ra_sessions ADD COLUMN receipt_problem TEXT",
       }},
  };
  return kMigrations;
}

}  // namespace reach::hub
