# pg_tenancy: PGXS build of the extension (the engine is built by CMakeLists.txt).
#
#   make && make install            build and install the extension
#   make installcheck               pg_regress + isolation tests against a running
#                                   server that preloads pg_tenancy (tests/run-all.sh
#                                   sets one up)

EXTENSION   = pg_tenancy
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big  = pg_tenancy
# The server verifies context tokens only; identity tokens are the engine's (engine/src/identity).
TOKEN_SRCS  = $(wildcard token/src/*.cpp)
EXT_SRCS    = $(wildcard extension/src/*.cpp)
OBJS        = $(EXT_SRCS:.cpp=.o) $(TOKEN_SRCS:.cpp=.o)

# Released install and upgrade scripts are kept exactly as released. The current
# version's install script is built from the sources by area, sql/src/NN_area.sql,
# concatenated in name order; each holds the final form of its objects. Every
# change to sql/src is also written by hand into the upgrade script to the current
# version (sql/pg_tenancy--PREVIOUS--CURRENT.sql); tests/cluster/upgrade_matches_fresh.sh
# checks that a fresh install and every upgrade path give the same catalog.
SQL_SOURCES    = $(sort $(wildcard sql/src/*.sql))
CURRENT_SCRIPT = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA_built     = $(CURRENT_SCRIPT)
# The first release's install script and every upgrade script; the versions in
# between install through the chain (CREATE EXTENSION ... VERSION '0.2.0' runs
# 0.1.0 and then 0.1.0--0.2.0).
FIRST_VERSION  = 0.1.0
DATA           = sql/$(EXTENSION)--$(FIRST_VERSION).sql $(wildcard sql/$(EXTENSION)--*--*.sql)

PG_CPPFLAGS = -Iextension/include -Itoken/include
PG_CXXFLAGS = -std=c++17 -fno-strict-aliasing -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -Wno-cast-function-type
# -z now binds every symbol when the postmaster preloads the library, so a new
# backend inherits them resolved: with lazy binding, a quarter of a backend's
# first tenancy.enter() went to resolving symbols (_dl_fixup) and writing the
# pages that hold them (docs/performance.md).
SHLIB_LINK  = -lcrypto -lstdc++ -Wl,-z,now
# Warnings fail the build in CI (CI=true, as CI services set it) and in
# tests/run-all.sh (WERROR=1).
ifneq ($(filter true 1,$(CI) $(WERROR)),)
PG_CXXFLAGS += -Werror
endif

# pg_regress runs schedules: the fixture, the tests (or, with REGRESS_SCHEDULE,
# a schedule of one test: tests/run-all.sh regress:NAME), then the cleanup.
# PGXS passes $(REGRESS) last to pg_regress, which accepts options anywhere.
REGRESS_SCHEDULE ?= tests/regress/schedule
REGRESS      = --schedule=tests/regress/setup_schedule --schedule=$(REGRESS_SCHEDULE) \
               --schedule=tests/regress/cleanup_schedule
REGRESS_OPTS = --inputdir=tests/regress
# Isolation specs carry {{token ...}} placeholders that tests/run-all.sh fills
# with freshly minted tokens into ISOLATION_INPUT; without it they are skipped.
ifneq ($(ISOLATION_INPUT),)
ISOLATION      = $(patsubst tests/isolation/specs/%.spec,%,$(sort $(wildcard tests/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=$(ISOLATION_INPUT) --outputdir=$(ISOLATION_INPUT)/output
endif

EXTRA_CLEAN = results output_iso regression.diffs regression.out

# LLVM bitcode for JIT inlining is of no use for these functions and would need
# the C++ flags passed to clang as well.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

ifeq ($(EXTVERSION),)
$(error could not read default_version from $(EXTENSION).control)
endif

$(CURRENT_SCRIPT): $(SQL_SOURCES) $(EXTENSION).control
	cat $(SQL_SOURCES) >$@

# PGXS does not track header dependencies by default; rebuild on any header change.
$(OBJS): $(wildcard extension/include/pg_tenancy/*.hpp extension/src/*.hpp token/include/pg_tenancy/token/*.hpp \
                    token/src/*.hpp)
