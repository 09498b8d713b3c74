# Sourced by shell tests: one Prometheus value from a specinv /metrics
# endpoint, with bash alone (no curl, no process start-up per scrape).
#   scrape_metric HOST PORT NAME   -> the integer part of NAME's value on
#                                     stdout; nothing when unreachable or absent
scrape_metric() {
  local line
  { exec 3<>"/dev/tcp/$1/$2" &&
    printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3 &&
    while IFS= read -r -t 2 line <&3; do
      if [[ "$line" == "$3 "* ]]; then
        line=${line#"$3 "}
        echo "${line%%.*}"
        break
      fi
    done
    exec 3<&-; } 2>/dev/null || true
}
