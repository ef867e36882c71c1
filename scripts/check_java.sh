#!/usr/bin/env bash
# Spark 4 needs Java 17 or newer. Say exactly what is missing and how to get it.
set -euo pipefail
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if ! command -v "$java_bin" >/dev/null 2>&1; then
  echo "error: no Java found (Spark 4 needs Java 17+)." >&2
  echo "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless" >&2
  echo "  or set JAVA_HOME to a JDK/JRE 17 installation." >&2
  exit 1
fi
version=$("$java_bin" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
major=${version%%.*}
[ "$major" = "1" ] && major=$(echo "$version" | cut -d. -f2)
if [ "${major:-0}" -lt 17 ]; then
  echo "error: Java $version found at $(command -v "$java_bin"); Spark 4 needs Java 17+." >&2
  echo "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless (then set JAVA_HOME)" >&2
  exit 1
fi
echo "java: $version ok"
