#include "pg/test_postgres.h"

#include "common/crypto.h"
#include "store/db.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace reach::testpg {
namespace {

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string script() {
  return std::string(REACH_SOURCE_DIR) + "/tests/pg/test-postgres.sh";
}

// A server of this process's own, stopped at exit.
struct OwnServer {
  std::string state;
  std::string url;
  ~OwnServer() {
    if (state.empty()) return;
    std::string cmd = "'" + script() + "' stop '" + state + "'";
    (void)std::system(cmd.c_str());
    std::error_code ec;
    std::filesystem::remove_all(state, ec);
  }
};

std::string start_own() {
  static OwnServer own;
  if (!own.url.empty()) return own.url;
  own.state =
      (std::filesystem::temp_directory_path() / ("reach-pg-state-" + crypto::random_token(6)))
          .string();
  std::string cmd = "'" + script() + "' start '" + own.state + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  own.url = read_line(own.state + "/url");
  return own.url;
}

// postgresql:///NAME?host=…: the server's URL with another database.
std::string with_database(const std::string& server, const std::string& name) {
  auto slash = server.find("///");
  auto query = server.find('?');
  return server.substr(0, slash + 3) + name + server.substr(query);
}

}  // namespace

std::string database_name(const std::string& url) {
  auto slash = url.find("///");
  auto query = url.find('?');
  if (slash == std::string::npos) return {};
  return url.substr(slash + 3, query == std::string::npos ? std::string::npos : query - slash - 3);
}

bool selected() {
  const char* s = std::getenv("REACH_TEST_STORE");
  return s && std::string_view(s) == "postgresql";
}

std::string server_url() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  // ctest's fixture keeps its state next to the programs (REACH_BIN_DIR/../test-postgres).
  std::string state;
  if (const char* s = std::getenv("REACH_TEST_PG_STATE"); s && *s) {
    state = s;
  } else if (const char* bin = std::getenv("REACH_BIN_DIR"); bin && *bin) {
    state = std::string(bin) + "/../test-postgres";
  }
  if (!state.empty()) {
    std::string url = read_line(state + "/url");
    if (!url.empty()) return url;
  }
  std::string url = start_own();
  if (url.empty())
    ADD_FAILURE() << "cannot start the tests' PostgreSQL server (" << script() << ")";
  return url;
}

std::string create_database(std::string_view purpose) {
  std::string server = server_url();
  if (server.empty()) return {};
  auto admin = store::Database::open_postgresql(server, 1);
  if (!admin) {
    ADD_FAILURE() << "PostgreSQL: " << admin.error().message;
    return {};
  }
  std::string name = "t_";
  for (char c : purpose)
    if (std::isalnum(static_cast<unsigned char>(c)) && name.size() < 24)
      name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  name += "_" + crypto::random_token(8);
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto r = (*admin)->exec("CREATE DATABASE " + name + " TEMPLATE template0 ENCODING 'UTF8'", {});
  if (!r) {
    ADD_FAILURE() << "CREATE DATABASE: " << r.error().message;
    return {};
  }
  return with_database(server, name);
}

void drop_database(const std::string& url) {
  std::string server = server_url();
  if (server.empty() || url.empty()) return;
  std::string name = database_name(url);
  auto admin = store::Database::open_postgresql(server, 1);
  if (!admin) return;
  (void)(*admin)->exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", {});
}

}  // namespace reach::testpg
