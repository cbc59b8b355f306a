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

# Debian packages for the tests that need them; each such test is skipped, saying why, when its package is missing.
# Debian's own versions (the release pins them). Needs root or sudo for apt-get; without them, say so and go on.
# Usage: apt_install <package> <check command> <what is skipped without it>
apt_install() {
  local package="$1" check="$2" skipped="$3" apt_get="apt-get"
  if bash -c "$check" >/dev/null 2>&1; then
    echo "$package already installed"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt_get="sudo -n apt-get"; else apt_get=""; fi
  fi
  if [ -z "$apt_get" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$package is missing and cannot be installed here (no apt-get as root); $skipped"
  elif $apt_get install -y --no-install-recommends "$package" || { $apt_get update && $apt_get install -y --no-install-recommends "$package"; }; then
    echo "$package installed"
  else
    echo "installing $package failed; $skipped"
  fi
}

# kcat, librdkafka's command-line client, the oracle for the Kafka listener's tests.
apt_install kcat "command -v kcat" "the kcat tests will be skipped"
# python3-confluent-kafka, Debian's Python Kafka client (an older librdkafka), for the tests that run a Python client
# against the silos (admin calls, SCRAM over TLS, the cut-off side of a network partition).
apt_install python3-confluent-kafka "/usr/bin/python3 -c 'import confluent_kafka'" "the Python client tests will be skipped"
# chromium, Debian's browser, for the web console's browser tests (Microsoft.Playwright drives /usr/bin/chromium).
apt_install chromium "test -x /usr/bin/chromium" "the console's browser tests will be skipped"
# nftables, whose nft command cuts links between silos in their network namespaces (the network partition tests).
apt_install nftables "command -v nft || test -x /usr/sbin/nft" "the network partition tests will be skipped"

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
