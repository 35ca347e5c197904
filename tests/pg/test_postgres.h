// The tests' PostgreSQL server (tests/pg/test-postgres.sh): the one ctest's fixture started
// (REACH_TEST_PG_STATE names its state directory), or else one this process starts for itself
// and stops when it exits. Each test takes a database of its own.
#pragma once

#include <string>
#include <string_view>

namespace reach::testpg {

// Whether this run puts the integration tests on PostgreSQL (REACH_TEST_STORE=postgresql).
bool selected();

// The server's URL (postgresql:///postgres?host=SOCKET_DIR&port=…: through its Unix socket); empty,
// with a test failure, if none can start.
std::string server_url();

// A new, empty database on the server; its URL. Empty, with a test failure, on error.
std::string create_database(std::string_view purpose);

// The database a URL of create_database names.
std::string database_name(const std::string& url);

// Drops a database create_database made (nothing may be connected to it).
void drop_database(const std::string& url);

}  // namespace reach::testpg
