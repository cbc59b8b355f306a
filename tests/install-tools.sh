#!/usr/bin/env bash
# Installs the pinned test tools into <repo>/tools (git-ignored). Idempotent: a tool already at its
# pinned version is left alone. Called by test.sh before the build, and by the Azurite test fixture
# when the tool is missing, so `dotnet test` alone works too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# Azurite, the Azure Storage emulator, for the Azure provider contract tests.
azurite_version="3.37.0"
azurite_dir="$root/tools/azurite"
azurite_package="$azurite_dir/node_modules/azurite/package.json"
if [ -f "$azurite_package" ] && grep -q "\"version\": \"$azurite_version\"" "$azurite_package"; then
  echo "azurite $azurite_version already installed in $azurite_dir"
else
  mkdir -p "$azurite_dir"
  npm install --prefix "$azurite_dir" --no-audit --no-fund --save-exact "azurite@$azurite_version"
fi
