#!/usr/bin/env bash
# fill_tokens.sh SRC_DIR DEST_DIR: copies isolation specs, replacing every
# {{token USER_UUID}} or {{token USER_UUID ORG_UUID}} with a freshly minted
# context token (isolation specs cannot run commands themselves).
set -euo pipefail
src=$1 dest=$2
for spec in "$src"/*.spec; do
  out="$dest/$(basename "$spec")"
  cp "$spec" "$out"
  grep -oE '\{\{token [0-9a-f-]{36}( [0-9a-f-]{36})?\}\}' "$spec" | sort -u | while read -r placeholder; do
    read -r _ user org <<<"$(echo "$placeholder" | tr -d '{}')"
    if [ -n "${org:-}" ]; then
      token=$("$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --ttl 3600 --user "$user" --org "$org")
    else
      token=$("$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --ttl 3600 --user "$user")
    fi
    sed -i "s|$placeholder|$token|g" "$out"
  done
done
