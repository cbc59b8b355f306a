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
# Each run's results go to a fresh folder; when a test fails, its message and output are printed again at the end,
# where a reader of a long log looks first.
results="$PWD/TestResults/run-$(date +%Y%m%d-%H%M%S)-$$"
status=0
dotnet test Actors.sln -c Release --no-build -m:1 --filter "Category!=Soak" --logger "console;verbosity=normal" \
  --logger "trx;LogFilePrefix=tests" --results-directory "$results" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  python3 tests/failed-tests.py "$results" || true
fi
exit "$status"
