// The one translation unit that compiles Asio, Asio-SSL and Beast (the top CMakeLists defines
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION everywhere): every other
// file only sees declarations, which keeps builds on two cores tolerable.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
