#include "store/db.h"

#include "common/crypto.h"
#include "pg/test_postgres.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

namespace reach::store {
namespace {

// Whether `name` is present, or `otherwise` when the store could not say.
bool present_or(Database& db, const std::string& name, bool otherwise) {
  auto r = db.present(name);
  return r ? *r : otherwise;
}

// On SQLite, or on PostgreSQL when the run selects it (ctest's store_test ….postgresql).
class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("reach-db-" + crypto::random_token(6));
    std::filesystem::create_directories(dir_);
    url_ = testpg::selected() ? testpg::create_database("store")
                              : "sqlite:" + (dir_ / "t.db").string();
    ASSERT_FALSE(url_.empty());
    auto db = Database::open(url_);
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
    if (testpg::selected()) testpg::drop_database(url_);
  }
  std::filesystem::path dir_;
  std::string url_;
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
  EXPECT_EQ(r.error().kind, Errc::conflict);
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
  EXPECT_FALSE(db_->query("SELECT COUNT(*) FROM a")) << "the migration's first table was kept";
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM schema_migrations")->rows[0].integer(0), 0);
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

// Two processes' worth of stores on one database, each checking that a slot is free before it
// takes it: exactly one takes it (no write skew), and no transaction is lost or refused.
TEST_F(DbTest, CheckThenInsertOnTwoStoresTakesTheSlotOnce) {
  ASSERT_TRUE(db_->migrate(kV1));
  auto second = Database::open(url_);
  ASSERT_TRUE(second) << second.error().message;
  std::atomic<int> taken{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      Database& db = i % 2 ? **second : *db_;
      for (int round = 0; round < 10; ++round) {
        bool took = false;
        auto st = db.transaction([&](Session& s) -> Status {
          took = false;
          auto n = s.query("SELECT COUNT(*) FROM t WHERE s = ?", {"slot" + std::to_string(round)});
          if (!n) return n.error();
          if (n->rows[0].integer(0) > 0) return {};
          auto r = s.exec("INSERT INTO t (id, s) VALUES (?, ?)",
                          {crypto::random_token(8), "slot" + std::to_string(round)});
          if (!r) return r.error();
          took = true;
          return {};
        });
        if (!st) ++failed;
        if (st && took) ++taken;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(taken.load(), 10);
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM t")->rows[0].integer(0), 10);
  EXPECT_EQ(db_->query("SELECT COUNT(DISTINCT s) FROM t")->rows[0].integer(0), 10);
}

TEST_F(DbTest, WritesSurviveReopen) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id) VALUES ('kept')"));
  db_.reset();
  auto db = Database::open(url_);
  ASSERT_TRUE(db);
  EXPECT_EQ((*db)->query("SELECT id FROM t")->rows.at(0).text(0), "kept");
}

TEST_F(DbTest, ReadersRunWhileAWriterHoldsItsTransaction) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n) VALUES ('r', 1)"));
  std::promise<void> inside, read_done;
  auto read_done_f = read_done.get_future();
  std::thread writer([&] {
    auto st = db_->transaction([&](Session& s) -> Status {
      auto r = s.exec("UPDATE t SET n = 2 WHERE id = 'r'");
      if (!r) return r.error();
      inside.set_value();
      // Held open until the reader has finished: a reader that waited on the writer would
      // never finish, and the wait below would give up.
      if (read_done_f.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
        ADD_FAILURE() << "the reader waited for the writer's transaction";
      return {};
    });
    EXPECT_TRUE(st);
  });
  inside.get_future().wait();
  auto seen = db_->query("SELECT n FROM t WHERE id = 'r'");
  read_done.set_value();
  writer.join();
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(seen->rows.at(0).integer(0), 1) << "a reader saw an uncommitted write";
  EXPECT_EQ(db_->query("SELECT n FROM t WHERE id = 'r'")->rows.at(0).integer(0), 2);
}

TEST_F(DbTest, AReadSnapshotSeesOneStateAndOnlyReads) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n) VALUES ('a', 1)"));
  auto snap = db_->read_snapshot();
  if (db_->backend() == Backend::postgresql) {
    // Every statement is a round trip on PostgreSQL: no snapshot, the caller reads the store.
    EXPECT_EQ(snap, nullptr);
    return;
  }
  ASSERT_NE(snap, nullptr);
  auto before = snap->query("SELECT n FROM t WHERE id = 'a'");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->rows.at(0).integer(0), 1);
  // A write committed meanwhile is not in the snapshot, and is in the store.
  ASSERT_TRUE(db_->exec("UPDATE t SET n = 2 WHERE id = 'a'"));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n) VALUES ('b', 3)"));
  auto during = snap->query("SELECT COUNT(*), SUM(n) FROM t");
  ASSERT_TRUE(during);
  EXPECT_EQ(during->rows.at(0).integer(0), 1);
  EXPECT_EQ(during->rows.at(0).integer(1), 1);
  auto now = db_->query("SELECT COUNT(*), SUM(n) FROM t");
  ASSERT_TRUE(now);
  EXPECT_EQ(now->rows.at(0).integer(1), 5);
  // It only reads.
  auto wrote = snap->exec("UPDATE t SET n = 9");
  ASSERT_FALSE(wrote);
  EXPECT_EQ(wrote.error().kind, Errc::internal);
  EXPECT_FALSE(snap->query("DELETE FROM t RETURNING id"));
  snap.reset();
  auto after = db_->query("SELECT SUM(n) FROM t");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->rows.at(0).integer(0), 5);
  // Its reader went back to the pool at the end of its transaction: the next snapshot sees now.
  auto next = db_->read_snapshot();
  ASSERT_NE(next, nullptr);
  auto seen = next->query("SELECT SUM(n) FROM t");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->rows.at(0).integer(0), 5);
}

TEST_F(DbTest, WhileASnapshotIsOpenWritersCommit) {
  ASSERT_TRUE(db_->migrate(kV1));
  auto snap = db_->read_snapshot();
  if (db_->backend() == Backend::postgresql) {
    EXPECT_EQ(snap, nullptr);
    return;
  }
  ASSERT_NE(snap, nullptr);
  ASSERT_TRUE(snap->query("SELECT COUNT(*) FROM t"));  // the read transaction begins
  for (int i = 0; i < 50; ++i) {
    auto st = db_->transaction([&](Session& s) -> Status {
      auto r = s.exec("INSERT INTO t (id, n) VALUES (?, ?)", {"k" + std::to_string(i), i});
      if (!r) return r.error();
      return {};
    });
    ASSERT_TRUE(st) << st.error().message;
  }
  auto in_snap = snap->query("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(in_snap);
  EXPECT_EQ(in_snap->rows.at(0).integer(0), 0);
}

TEST_F(DbTest, ExistsAndQueryIntReadTheFirstRow) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n) VALUES ('a', 7), ('b', 9)"));
  auto yes = exists(*db_, "SELECT 1 FROM t WHERE id = ?", {"a"});
  ASSERT_TRUE(yes);
  EXPECT_TRUE(*yes);
  auto no = exists(*db_, "SELECT 1 FROM t WHERE id = ?", {"z"});
  ASSERT_TRUE(no);
  EXPECT_FALSE(*no);
  auto n = query_int(*db_, "SELECT COUNT(*) FROM t");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  auto v = query_int(*db_, "SELECT n FROM t WHERE id = ?", {"b"});
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 9);
  auto none = query_int(*db_, "SELECT n FROM t WHERE id = ?", {"z"});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, Errc::not_found);
  EXPECT_FALSE(exists(*db_, "SELECT 1 FROM no_such_table"));
}

TEST_F(DbTest, QuestionMarksInQuotesAreNotPlaceholders) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, s) VALUES (?, 'what?')", {"q"}));
  auto rows = db_->query("SELECT s, 'it''s ?' FROM t WHERE id = ? AND s = 'what?'", {"q"});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0].text(0), "what?");
  EXPECT_EQ(rows->rows[0].text(1), "it's ?");
}

TEST_F(DbTest, CountsAndComparisonsReadAsIntegers) {
  ASSERT_TRUE(db_->migrate(kV1));
  ASSERT_TRUE(db_->exec("INSERT INTO t (id, n) VALUES ('a', 5), ('b', 7)"));
  auto rows = db_->query("SELECT COUNT(*), SUM(n), MAX(n) FROM t WHERE n > ?", {6});
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(rows->rows[0].integer(0), 1);
  EXPECT_EQ(rows->rows[0].integer(1), 7);
  EXPECT_EQ(rows->rows[0].integer(2), 7);
  auto cmp = db_->query("SELECT n > 6 FROM t WHERE id = 'b'");
  ASSERT_TRUE(cmp) << cmp.error().message;
  EXPECT_TRUE(cmp->rows[0].boolean(0));
  auto changed = db_->exec("UPDATE t SET n = n + 1");
  ASSERT_TRUE(changed);
  EXPECT_EQ(*changed, 2);
}

TEST_F(DbTest, DescribeNamesTheStoreWithoutAPassword) {
  EXPECT_TRUE(db_->ping());
  std::string d = db_->describe();
  if (db_->backend() == Backend::postgresql) {
    EXPECT_TRUE(d.starts_with("postgresql://")) << d;
  } else {
    EXPECT_EQ(d, url_);
  }
}

TEST_F(DbTest, TheDataDirectoryRemembersItsDatabase) {
  std::string dir = dir_.string();
  EXPECT_FALSE(has_database(dir, "x.db"));
  EXPECT_EQ(database_url(dir, "x.db"), "sqlite:" + dir + "/x.db");
  ASSERT_TRUE(remember_database_url(dir, "postgresql://u@127.0.0.1:1/x"));
  EXPECT_TRUE(has_database(dir, "x.db"));
  EXPECT_EQ(database_url(dir, "x.db"), "postgresql://u@127.0.0.1:1/x");
  EXPECT_EQ(std::filesystem::status(dir_ / "database").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto bad = Database::open("mysql://x");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("postgresql://"), std::string::npos);
}

TEST_F(DbTest, APresenceIsHeldOnceAndSeen) {
  ASSERT_TRUE(db_->claim_presence("node-1"));
  auto again = db_->claim_presence("node-1");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, Errc::conflict);
  EXPECT_EQ(present_or(*db_, "node-1", false), true);
  EXPECT_EQ(present_or(*db_, "node-2", true), false);
}

// PostgreSQL only: another process (here another Database, with its own connections) sees a
// presence, cannot take it, and sees it go the moment its holder's connection does.
TEST(PostgresStore, APresenceGoesWithItsHolderAndComesBackAfterADrop) {
  std::string url = testpg::create_database("presence");
  ASSERT_FALSE(url.empty());
  auto holder = Database::open_postgresql(url, 2);
  auto other = Database::open_postgresql(url, 2);
  ASSERT_TRUE(holder && other);
  ASSERT_TRUE((*holder)->claim_presence("node-1"));
  EXPECT_EQ(present_or(**other, "node-1", false), true);
  auto taken = (*other)->claim_presence("node-1");
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().kind, Errc::conflict);

  // The server drops every connection of the holder: it reconnects and takes its name back.
  auto admin = Database::open_postgresql(testpg::server_url(), 1);
  ASSERT_TRUE(admin);
  ASSERT_TRUE((*admin)->query(
      "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.locktype = 'advisory'", {}));
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    back = present_or(**other, "node-1", false);
  }
  EXPECT_TRUE(back) << "the holder did not take its presence back";

  holder->reset();
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !present_or(**other, "node-1", true);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the presence outlived its holder";
  EXPECT_TRUE((*other)->claim_presence("node-1"));
  other->reset();
  testpg::drop_database(url);
}

// PostgreSQL only: a connection the server drops is replaced, and the error in between says the
// store is unavailable rather than that the request was wrong.
TEST(PostgresStore, ADroppedConnectionIsReplaced) {
  std::string url = testpg::create_database("dropped");
  ASSERT_FALSE(url.empty());
  auto db = Database::open_postgresql(url, 2);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->exec("CREATE TABLE k (id TEXT)", {}));
  auto admin = Database::open_postgresql(testpg::server_url(), 1);
  ASSERT_TRUE(admin);
  std::string name = testpg::database_name(url);
  ASSERT_TRUE((*admin)->query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?", {name}));
  auto first = (*db)->query("SELECT COUNT(*) FROM k", {});
  if (!first) {
    EXPECT_EQ(first.error().kind, Errc::unavailable) << first.error().message;
  }
  auto then = (*db)->query("SELECT COUNT(*) FROM k", {});
  ASSERT_TRUE(then) << then.error().message;
  EXPECT_EQ(then->rows.at(0).integer(0), 0);
  db->reset();
  testpg::drop_database(url);
}

// PostgreSQL only (SQLite undoes only the failed statement): a statement whose error the code
// ignored has failed the whole transaction, so the transaction is reported failed, not committed
// in words and rolled back in fact.
TEST(PostgresStore, AStatementErrorTheCodeIgnoredFailsTheTransaction) {
  std::string url = testpg::create_database("ignored");
  ASSERT_FALSE(url.empty());
  auto db = Database::open_postgresql(url, 2);
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->exec("CREATE TABLE k (id TEXT PRIMARY KEY)", {}));
  ASSERT_TRUE((*db)->exec("INSERT INTO k (id) VALUES ('taken')", {}));
  auto st = (*db)->transaction([](Session& s) -> Status {
    if (auto r = s.exec("INSERT INTO k (id) VALUES ('new')"); !r) return r.error();
    (void)s.exec("INSERT INTO k (id) VALUES ('taken')");  // a conflict, ignored
    return {};
  });
  EXPECT_FALSE(st);
  EXPECT_EQ((*db)->query("SELECT COUNT(*) FROM k", {})->rows.at(0).integer(0), 1);
  // The connection is clean for the next one.
  EXPECT_TRUE((*db)->transaction([](Session& s) -> Status {
    if (auto r = s.exec("INSERT INTO k (id) VALUES ('next')"); !r) return r.error();
    return {};
  }));
  EXPECT_EQ((*db)->query("SELECT COUNT(*) FROM k", {})->rows.at(0).integer(0), 2);
  db->reset();
  testpg::drop_database(url);
}

TEST(PostgresStore, AnUnreachableServerIsAClearError) {
  auto db = Database::open_postgresql("postgresql://reach@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, Errc::unavailable);
  EXPECT_NE(db.error().message.find("cannot connect to the database"), std::string::npos)
      << db.error().message;
  EXPECT_EQ(db.error().message.find('\n'), std::string::npos) << "one line: " << db.error().message;
}

}  // namespace
}  // namespace reach::store
