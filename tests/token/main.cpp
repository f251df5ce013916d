// Boost.Test entry point for the token library's unit tests.
#define BOOST_TEST_MODULE pg_tenancy token library
#include <boost/test/unit_test.hpp>
