#!/usr/bin/env bash
# install_package.sh: the installed CMake package and pkg-config file work for a
# consumer: find_package(pg_tenancy) and `pkg-config pg_tenancy` both build a
# program against pg_tenancy::engine. Prints "ok NAME" / "not ok NAME".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$root/build" --prefix "$work/prefix" >"$work/install.log" 2>&1
mkdir -p "$work/consumer"
cat >"$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(consumer CXX)
find_package(pg_tenancy 0.3 REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE pg_tenancy::engine)
CMAKE
cat >"$work/consumer/main.cpp" <<'CPP'
#include <iostream>
#include <nlohmann/json.hpp> // the engine's public dependency (Identity::claims)
#include "pg_tenancy/engine/engine.hpp"
int main() {
	tenancy::EngineConfig config;
	try {
		config.Validate();
	} catch (const tenancy::ConfigurationError &e) {
		std::cout << "configuration check works: " << e.what() << "\n";
	}
	std::cout << tenancy::ToString(tenancy::ParseUuid("5f0c1e9e-8a55-4c0e-9a51-7d1f0a7e9b2c")) << "\n";
	std::cout << "claims of an identity the application made: " << tenancy::Identity{}.claims.Json().dump() << "\n";
}
CPP
if cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/cmake.log" 2>&1 &&
  cmake --build "$work/consumer/build" >>"$work/cmake.log" 2>&1 &&
  "$work/consumer/build/consumer" | grep -q 5f0c1e9e; then
  echo "ok package:find_package_pg_tenancy"
else
  echo "not ok package:find_package_pg_tenancy"; cat "$work/install.log" "$work/cmake.log"
fi
if PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" c++ "$work/consumer/main.cpp" -o "$work/pc_consumer" \
    $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs pg_tenancy) >"$work/pc.log" 2>&1 &&
  "$work/pc_consumer" | grep -q 5f0c1e9e; then
  echo "ok package:pkg_config_pg_tenancy"
else
  echo "not ok package:pkg_config_pg_tenancy"; cat "$work/pc.log"
fi
