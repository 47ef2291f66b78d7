#!/usr/bin/env python3
"""How busy each CPU was during each phase of the side-by-side harness.

Runs the command it is given (the harness, ../shared/bench/side-by-side.py), passes its output
through, and samples /proc/stat every 0.2 s. For each phase line the harness prints (one JSON
object per measured phase, with "duration_s"), it adds a line with the share of each CPU that
was busy (not idle, not waiting for I/O) over that phase's last duration_s seconds:

  python3 bench/cpubusy.py python3 ../shared/bench/side-by-side.py --pin --rounds 3 --duration 10 \\
      --policy-dir /tmp/pol --policy trusted-hosts --config bench/trusted-hosts.yaml

With --pin the servers run on CPU 1 and wrk and Redis on CPU 0, so the two figures say whether
a phase was limited by the server's core, by the load generator's and Redis's, or by neither
(then by the time requests spend waiting between the two). The phase's window ends when the
harness prints its line, a few milliseconds after wrk stops: the figures include that much
of the next step, and are shares of the whole window, not of wrk's run alone.
"""
import bisect, json, subprocess, sys, threading, time


def sample():
    """Returns {cpu: (busy, total)} jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *v = line.split()
                v = [int(x) for x in v]
                out[name] = (sum(v) - v[3] - v[4], sum(v))
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    samples, lock, stop = [], threading.Lock(), threading.Event()

    def sampler():
        while not stop.is_set():
            s = (time.monotonic(), sample())
            with lock:
                samples.append(s)
            stop.wait(0.2)

    t = threading.Thread(target=sampler, daemon=True)
    t.start()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if not isinstance(r, dict) or "duration_s" not in r:
            continue
        now = time.monotonic()
        with lock:
            times = [s[0] for s in samples]
            i = max(bisect.bisect_left(times, now - r["duration_s"]), 0)
            if i >= len(samples) - 1:
                continue
            a, b = samples[i][1], samples[-1][1]
        busy = {c: round(100.0 * (b[c][0] - a[c][0]) / max(b[c][1] - a[c][1], 1), 1) for c in sorted(b)}
        print("# cpu busy %% %s %s c%s round %s: %s" % (r.get("system"), r.get("op"), r.get("conns"), r.get("round"),
              " ".join("%s %.1f" % (c, v) for c, v in busy.items())), flush=True)
    stop.set()
    sys.exit(p.wait())


if __name__ == "__main__":
    main()
