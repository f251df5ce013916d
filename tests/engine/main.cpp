// Boost.Test entry point for the engine tests (they need a running server).
#define BOOST_TEST_MODULE pg_tenancy engine
#include <boost/test/unit_test.hpp>
