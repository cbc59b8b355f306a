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

# kcat, librdkafka's command-line client, the oracle for the Kafka listener's tests (Debian's package; the tests
# that need it are skipped, saying why, when it is missing). Needs root or sudo for apt-get; without them, say so
# and go on.
if command -v kcat >/dev/null 2>&1; then
  echo "kcat already installed at $(command -v kcat)"
else
  apt_get="apt-get"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt_get="sudo -n apt-get"; else apt_get=""; fi
  fi
  if [ -z "$apt_get" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "kcat is missing and cannot be installed here (no apt-get as root); the kcat tests will be skipped"
  elif $apt_get install -y --no-install-recommends kcat || { $apt_get update && $apt_get install -y --no-install-recommends kcat; }; then
    echo "kcat installed at $(command -v kcat)"
  else
    echo "installing kcat failed; the kcat tests will be skipped"
  fi
fi

# python3-confluent-kafka, Debian's Python Kafka client (an older librdkafka), for the admin tests that run a Python
# AdminClient against the silos (skipped, saying why, when /usr/bin/python3 cannot import confluent_kafka). Needs root
# or sudo for apt-get, as kcat does.
if /usr/bin/python3 -c "import confluent_kafka" >/dev/null 2>&1; then
  echo "python3-confluent-kafka already installed"
else
  apt_get="apt-get"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt_get="sudo -n apt-get"; else apt_get=""; fi
  fi
  if [ -z "$apt_get" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "python3-confluent-kafka is missing and cannot be installed here (no apt-get as root); the Python client tests will be skipped"
  elif $apt_get install -y --no-install-recommends python3-confluent-kafka || { $apt_get update && $apt_get install -y --no-install-recommends python3-confluent-kafka; }; then
    echo "python3-confluent-kafka installed"
  else
    echo "installing python3-confluent-kafka failed; the Python client tests will be skipped"
  fi
fi

# chromium, Debian's browser, for the web console's browser tests (Microsoft.Playwright drives it through
# /usr/bin/chromium; the tests are skipped, saying why, when it is missing). Needs root or sudo for apt-get, as kcat does.
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed at /usr/bin/chromium"
else
  apt_get="apt-get"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt_get="sudo -n apt-get"; else apt_get=""; fi
  fi
  if [ -z "$apt_get" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing and cannot be installed here (no apt-get as root); the console's browser tests will be skipped"
  elif $apt_get install -y --no-install-recommends chromium || { $apt_get update && $apt_get install -y --no-install-recommends chromium; }; then
    echo "chromium installed at /usr/bin/chromium"
  else
    echo "installing chromium failed; the console's browser tests will be skipped"
  fi
fi

# kafkajs, a Kafka client in JavaScript with its own protocol code, for the listener's client tests.
kafkajs_version="2.2.4"
kafkajs_dir="$root/tools/kafkajs"
kafkajs_package="$kafkajs_dir/node_modules/kafkajs/package.json"
if [ -f "$kafkajs_package" ] && grep -q "\"version\": \"$kafkajs_version\"" "$kafkajs_package"; then
  echo "kafkajs $kafkajs_version already installed in $kafkajs_dir"
else
  mkdir -p "$kafkajs_dir"
  npm install --prefix "$kafkajs_dir" --no-audit --no-fund --save-exact "kafkajs@$kafkajs_version"
fi
