// Internal to src/net (included by its .cpp files only): the Asio/Beast names and the
// coroutine helpers that the server, the client and the WebSocket session share.
#pragma once

#include "common/log.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <exception>
#include <string>

namespace reach::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Errors come back as values (`auto [ec, n] = co_await …`), never as exceptions.
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

inline std::string exception_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Completion handler for co_spawn: a coroutine that throws is logged, never silently dropped
// and never allowed to unwind through io_context::run().
inline auto log_exceptions(std::string where) {
  return [where = std::move(where)](std::exception_ptr e) {
    if (e) log::error("net.coroutine_failed", {{"where", where}, {"error", exception_message(e)}});
  };
}

}  // namespace reach::net::detail
