#include "store/db.h"

#include "common/crypto.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace reach::store {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("reach-db-" + crypto::random_token(6));
    std::filesystem::create_directories(dir_);
    auto db = Database::open_sqlite((dir_ / "t.db").string());
    ASSERT_TRUE(db);
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

const std::vector<Migration> kV1 = {
    {1, "t", {"CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, s TEXT)"}}};

TEST_F(DbTest, BindsAndReadsEveryType) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n, s) VALUES (?, ?, ?)", {"a", 42, nullptr}));
  auto rows = db_->query("SELECT id, n, s FROM t WHERE id = ?", {"a"});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0].text(0), "a");
  EXPECT_EQ(rows->rows[0].integer(1), 42);
  EXPECT_TRUE(rows->rows[0].null(2));
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"id", "n", "s"}));
}

TEST_F(DbTest, ConstraintViolationIsConflict) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id) VALUES ('a')"));
  auto r = db_->exec("INSERT INTO t (id) VALUES ('a')");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 409);
}

TEST_F(DbTest, FailedTransactionChangesNothing) {
  ASSERT_TRUE(db_->migrate(kV1));
  auto st = db_->transaction([](Session& s) -> Status {
    auto r = s.exec("INSERT INTO t (id) VALUES ('x')");
    EXPECT_TRUE(r);
    return bad_request("stop");
  });
  EXPECT_FALSE(st);
  EXPECT_TRUE(db_->query("SELECT id FROM t")->empty());
  EXPECT_THROW(db_->transaction([](Session& s) -> Status {
    (void)s.exec("INSERT INTO t (id) VALUES ('y')");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_TRUE(db_->query("SELECT id FROM t")->empty());
}

TEST_F(DbTest, MigrationsApplyOnceAndRefuseNewerSchemas) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->migrate(kV1));  // idempotent
  std::vector<Migration> v2 = kV1;
  v2.push_back({2, "u", {"CREATE TABLE u (id TEXT)", "INSERT INTO u (id) VALUES ('seed')"}});
  ASSERT_TRUE(db_->migrate(v2));
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM u")->rows[0].integer(0), 1);
  ASSERT_TRUE(db_->migrate(v2));
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM u")->rows[0].integer(0), 1);
  auto older = db_->migrate(kV1);
  ASSERT_FALSE(older);
  EXPECT_NE(older.error().message.find("newer"), std::string::npos);
}

TEST_F(DbTest, FailingMigrationRollsBack) {
  std::vector<Migration> bad = {{1, "bad", {"CREATE TABLE a (id TEXT)", "NOT SQL"}}};
  EXPECT_FALSE(db_->migrate(bad));
  EXPECT_TRUE(db_->query("SELECT name FROM sqlite_master WHERE name = 'a'")->empty());
}

TEST_F(DbTest, ConcurrentTransactionsSerialise) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n) VALUES ('c', 0)"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        auto st = db_->transaction([](Session& s) -> Status {
          auto n = s.query("SELECT n FROM t WHERE id = 'c'");
          if (!n) return n.error();
          auto r = s.exec("UPDATE t SET n = ? WHERE id = 'c'", {n->rows[0].integer(0) + 1});
          if (!r) return r.error();
          return {};
        });
        EXPECT_TRUE(st);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(db_->query("SELECT n FROM t WHERE id = 'c'")->rows[0].integer(0), 200);
}

TEST_F(DbTest, WritesSurviveReopen) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id) VALUES ('kept')"));
  db_.reset();
  auto db = Database::open_sqlite((dir_ / "t.db").string());
  ASSERT_TRUE(db);
  EXPECT_EQ((*db)->query("SELECT id FROM t")->rows.at(0).text(0), "kept");
}

}  // namespace
}  // namespace reach::store
