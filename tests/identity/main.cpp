// Boost.Test entry point for the identity-token tests (no server needed).
#define BOOST_TEST_MODULE pg_tenancy identity tokens
#include <boost/test/unit_test.hpp>
