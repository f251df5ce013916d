// utility_hook.hpp: the ProcessUtility hook (see utility_hook.cpp).
#pragma once

namespace pg_tenancy {

// Chains the previous hook; call once, from _PG_init().
void InstallUtilityHook();

} // namespace pg_tenancy
