#!/usr/bin/env bash
# Runs the whole default test suite on a fresh machine: restores, builds and tests every project.
# Long soak and benchmark runs are tagged [Trait("Category", "Soak")] and skipped here;
# run them with: dotnet test Actors.sln -c Release --filter Category=Soak
# Test assemblies run one after another (-m:1): their clusters time failure detection, and two
# cores shared by four test hosts at once would make those timings depend on the neighbours.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
bash tests/install-tools.sh
dotnet build Actors.sln -c Release
dotnet test Actors.sln -c Release --no-build -m:1 --filter "Category!=Soak" --logger "console;verbosity=normal" "$@"
