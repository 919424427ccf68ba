#!/usr/bin/env python3
"""Scenarios of bench/run.sh; run.sh prepares certificates, Postfix and the build, then calls this.

Every process started here writes its pid into --pids, and run.sh's exit trap stops them; this
script also stops each one as soon as its scenario ends. Every wait is bounded in time.
"""
import argparse
import gzip
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
EXPORTER_LISTEN = "127.100.255.1:19525"
BLACKBOX_LISTEN = "127.100.255.2:19115"
CONTROL = ("127.100.255.254", 19999)
POSTFIX = "127.100.0.1:25"

ROWS = []  # (scenario, figure, value, goal)


def row(scenario, figure, value, goal=""):
    ROWS.append((scenario, figure, value, goal))
    print(f"  {scenario:<34} {figure:<44} {value:>18}  {goal}", flush=True)


# --- processes ---------------------------------------------------------------------------------

class Proc:
    def __init__(self, name, argv, work, pids, env=None, nice=0):
        self.name = name
        self.log = open(os.path.join(work, name + ".log"), "ab")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True,
                                  preexec_fn=(lambda: os.nice(nice)) if nice else None)
        self.pid = self.p.pid
        self.pid_file = os.path.join(pids, name + ".pid")
        with open(self.pid_file, "w") as f:
            f.write(f"{self.pid}\n")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)
        self.log.close()
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass

    def alive(self):
        return self.p.poll() is None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def threads_by_nice(pid):
    """{nice: (CPU seconds, seconds waited on a run queue, times run)} summed over the threads of
    pid: the HTTP threads run at nice 0, the probe threads at 10 (exporter.cc)."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                sched = f.read().split()
        except OSError:
            continue  # the thread ended meanwhile
        nice = int(fields[16])
        cpu, wait, runs = out.get(nice, (0.0, 0.0, 0))
        out[nice] = (cpu + (int(fields[11]) + int(fields[12])) / CLK_TCK,
                     wait + int(sched[1]) / 1e9, runs + int(sched[2]))
    return out


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_until(pred, timeout, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def curl(url, headers=(), timeout=120, out="/dev/null"):
    """Returns (http_code, time_total, size_download)."""
    argv = ["curl", "-s", "-o", out, "-m", str(timeout), "-w", "%{http_code} %{time_total} %{size_download}"]
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10)
    code, t, size = r.stdout.split()
    return int(code), float(t), int(size)


def http_body(url, timeout=60, headers=()):
    argv = ["curl", "-s", "-m", str(timeout)]
    for h in headers:
        argv += ["-H", h]
    r = subprocess.run(argv + [url], capture_output=True, timeout=timeout + 10)
    return r.stdout.decode("utf-8", "replace")


def control_stats():
    try:
        with socket.create_connection(CONTROL, timeout=2) as s:
            s.settimeout(2)
            data = b""
            for _ in range(64):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    stats = {"reached": {}}
    for line in data.decode().splitlines():
        parts = line.split()
        if parts[0] == "all_reached":
            stats["reached"][int(parts[1])] = float(parts[2])
        else:
            stats[parts[0]] = int(parts[1])
    return stats


def metric_sum(text, name, must=()):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(m in line for m in must):
                total += float(line.rsplit(" ", 1)[1])
    return total


# --- configs -----------------------------------------------------------------------------------

def write_config(path, a, endpoints=(), interval="1s", timeout="10s", concurrency=256,
                 probe_allow=()):
    lines = [
        "[global]",
        f'interval = "{interval}"',
        'scan_interval = "6h"',
        f'timeout = "{timeout}"',
        f"concurrency = {concurrency}",
        'helo_name = "bench.test"',
        'resolvers = ["127.100.255.253:53"]',  # never asked: every target is an IP literal
        f'ca_file = "{a.work}/certs/ca.pem"',
        'state_file = ""',
        "",
        "[web]",
        f'listen_address = "{EXPORTER_LISTEN}"',
        "probe_allow = [" + ", ".join(f'"{p}"' for p in probe_allow) + "]",
        "",
    ]
    for ip, port in endpoints:
        lines += ["[[endpoint]]", f'target = "smtp://{ip}:{port}"', ""]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


def fleet_endpoints(second_octet, n):
    """n endpoints as 100 ports on as many addresses 127.<second_octet>.x.y as needed."""
    out = []
    ports = 100 if n >= 100 else n
    addrs = (n + ports - 1) // ports
    for i in range(addrs):
        ip = f"127.{second_octet}.{i // 250}.{i % 250 + 1}"
        for p in range(ports):
            if len(out) < n:
                out.append((ip, 20001 + p))
    return out


def start_exporter(a, config, name="mailsec"):
    p = Proc(name, [f"{a.root}/build-bench/mailsec_exporter", f"--config.file={config}",
                    "--log.level=warn"], a.work, a.pids)
    ok = wait_until(lambda: not p.alive() or
                    curl(f"http://{EXPORTER_LISTEN}/-/ready", timeout=2)[0] == 200, 20)
    if not ok or not p.alive():
        p.stop()
        raise SystemExit(f"exporter did not become ready; see {a.work}/{name}.log")
    return p


def start_fake(a, mode, endpoints, name):
    ep_file = os.path.join(a.work, name + ".endpoints")
    with open(ep_file, "w") as f:
        for ip, port in endpoints:
            f.write(f"{ip} {port}\n")
    argv = [f"{a.root}/build-bench/bench/fake_smtp", "--mode", mode, "--endpoints", ep_file,
            "--idle", "120"]
    if mode == "normal":
        argv += ["--cert", f"{a.work}/certs/leaf.pem", "--key", f"{a.work}/certs/leaf.key",
                 "--control", f"{CONTROL[0]}:{CONTROL[1]}"]
    # The fake fleet stands in for servers on other machines: at a lower priority (--fleet-nice,
    # 10 by default since 2026-12-07 session 7) it takes the CPU that the exporter and the
    # scraping client leave, instead of half a core from the client during a scrape.
    p = Proc(name, argv, a.work, a.pids, nice=a.fleet_nice)
    # Ready when the log says so (bounded: 10,000 listeners take well under a second).
    log = os.path.join(a.work, name + ".log")
    ok = wait_until(lambda: not p.alive() or "listening" in open(log).read(), 60)
    if not ok or not p.alive():
        p.stop()
        raise SystemExit(f"fake_smtp {mode} did not start; see {log}")
    return p


def reload(p):
    os.kill(p.pid, signal.SIGHUP)


# --- scenario 1: /probe against blackbox_exporter ---------------------------------------------

BLACKBOX_YML = """modules:
  smtp_starttls:
    prober: tcp
    timeout: 10s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - expect: "^220 "
        - send: "EHLO bench.test"
        - expect: "^250-STARTTLS"
        - expect: "^250 "
        - send: "STARTTLS"
        - expect: "^220 "
        - starttls: true
        - send: "EHLO bench.test"
        - expect: "^250 "
        - send: "QUIT"
        - expect: "^221 "
      tls_config:
        ca_file: {ca}
        server_name: mx.bench.test
"""


def drive(url, n, ok_marker):
    times, ok = [], 0
    for _ in range(n):
        code, t, _ = curl(url, headers=["X-Prometheus-Scrape-Timeout-Seconds: 10"], timeout=30,
                          out="/dev/stdout" if False else "/dev/null")
        times.append(t)
        ok += code == 200
    return times, ok


def probe_once(url, ok_marker):
    body = http_body(url, headers=["X-Prometheus-Scrape-Timeout-Seconds: 10"], timeout=30)
    return ok_marker in body, body


def scenario_probe(a):
    # Many short alternating rounds: the machine's load drifts, and each drift then hits both.
    rounds = 4 if a.quick else 16
    n = 100 if a.quick else 800
    print(f"\n== /probe vs blackbox_exporter: {n} probes each of the local Postfix on {POSTFIX}, "
          f"one at a time, alternating in {rounds} rounds", flush=True)
    cfg = os.path.join(a.work, "probe.toml")
    write_config(cfg, a, probe_allow=[f"smtp://{POSTFIX}"])
    bb_cfg = os.path.join(a.work, "blackbox.yml")
    with open(bb_cfg, "w") as f:
        f.write(BLACKBOX_YML.format(ca=f"{a.work}/certs/ca.pem"))
    ours = start_exporter(a, cfg)
    bb = Proc("blackbox", ["prometheus-blackbox-exporter", f"--config.file={bb_cfg}",
                           f"--web.listen-address={BLACKBOX_LISTEN}"], a.work, a.pids)
    try:
        if not wait_until(lambda: not bb.alive() or
                          curl(f"http://{BLACKBOX_LISTEN}/-/healthy", timeout=2)[0] == 200, 20):
            raise SystemExit("blackbox_exporter did not start")
        our_url = f"http://{EXPORTER_LISTEN}/probe?target=smtp://{POSTFIX}"
        bb_url = f"http://{BLACKBOX_LISTEN}/probe?module=smtp_starttls&target={POSTFIX}"
        ok_ours, body = probe_once(our_url, 'mailsec_probe_success{service="smtp",host="127.100.0.1",port="25",ip="127.100.0.1"} 1')
        if not ok_ours:
            print(body[:3000])
            raise SystemExit("our /probe of the local Postfix did not succeed")
        our_series = sum(1 for l in body.splitlines() if l and not l.startswith("#"))
        ok_bb, body = probe_once(bb_url, "probe_success 1")
        if not ok_bb:
            print(body[:3000])
            raise SystemExit("blackbox's probe of the local Postfix did not succeed")
        bb_series = sum(1 for l in body.splitlines() if l and not l.startswith("#"))
        for _ in range(10):  # warm-up
            curl(our_url, timeout=30)
            curl(bb_url, timeout=30)
        res = {"ours": [[], 0, 0.0, 0.0], "bb": [[], 0, 0.0, 0.0]}  # times, ok, cpu, wall
        for rnd in range(rounds):
            for key, proc, url in (("ours", ours, our_url), ("bb", bb, bb_url)):
                c0, w0 = cpu_seconds(proc.pid), time.time()
                times, ok = drive(url, n // rounds, None)
                res[key][2] += cpu_seconds(proc.pid) - c0
                res[key][3] += time.time() - w0
                res[key][0] += times
                res[key][1] += ok
        # success of the last probe of each, checked apart from the timed loop
        for key, label in (("ours", "mailsec_exporter /probe"), ("bb", "blackbox_exporter tcp")):
            times, ok, cpu, wall = res[key]
            row(label, "probes (HTTP 200)", f"{ok}/{n}")
            row(label, "CPU per probe (user+sys, ms)", f"{cpu / n * 1000:.2f}")
            row(label, "wall per probe, median / p90 (ms)",
                f"{statistics.median(times) * 1000:.1f} / {sorted(times)[int(len(times) * .9)] * 1000:.1f}")
            row(label, "series per probe", str(our_series if key == "ours" else bb_series))
            row(label, "RSS after (MB)", f"{status_kb((ours if key == 'ours' else bb).pid, 'VmRSS') / 1024:.1f}")
        ratio = (res["ours"][2] / n) / max(res["bb"][2] / n, 1e-9)
        row("ratio ours / blackbox", "CPU per probe", f"{ratio:.2f}x", "goal <= 0.5x")
    finally:
        bb.stop()
        ours.stop()


# --- scenario 2 and 4: the background cycle on a fake fleet, scrapes ---------------------------

def scenario_fleet(a, n, concurrency, scrape):
    label = f"fleet {n} @ concurrency {concurrency}"
    print(f"\n== {label}: fake STARTTLS servers, interval 1s (every target always due), "
          "timeout 10s", flush=True)
    eps = fleet_endpoints(101, n)
    fake = start_fake(a, "normal", eps, f"fake-normal-{n}-{concurrency}")
    cfg = os.path.join(a.work, f"fleet-{n}-{concurrency}.toml")
    write_config(cfg, a)  # empty first: the baseline
    exp = start_exporter(a, cfg, name=f"mailsec-fleet-{n}-{concurrency}")
    try:
        time.sleep(1)
        fd0, rss0 = fd_count(exp.pid), status_kb(exp.pid, "VmRSS")
        write_config(cfg, a, endpoints=eps, concurrency=concurrency)
        c0, t0 = cpu_seconds(exp.pid), time.time()
        reload(exp)
        # Cycle 1 ends when every target had its first fast probe; each target's first deep scan
        # follows it when one of max(1, concurrency / 8) scan slots is free and no other target
        # scans its address (else at a later probe), and the target's next probe waits for it:
        # the first scans run on through every cycle. Cycles 3 and 4 are taken as the steady
        # state. 10 s of timeout per address bounds a probe, so these bounds are generous.
        cycles = 4
        scans_at_once = max(1, concurrency // 8)
        bound = {1: 60 + n * 0.05, 2: 60 + n * 0.05 + n * 10 / scans_at_once,
                 3: 30 + n * 0.02, 4: 30 + n * 0.02}
        samples = {}  # k -> (time reached, exporter cpu, sessions)
        fd_max = 0
        for k in range(1, cycles + 1):
            end = time.time() + bound[k]
            while time.time() < end:
                st = control_stats()
                fd_max = max(fd_max, fd_count(exp.pid))
                if st and k in st["reached"]:
                    samples[k] = (st["reached"][k], cpu_seconds(exp.pid), st["sessions"])
                    break
                time.sleep(0.2)
            if k not in samples:
                row(label, f"cycle {k}", f"> {bound[k]:.0f} s (stopped)")
                break
        st = control_stats() or {}
        if 2 in samples:
            row(label, "cycle 1+2: first probes + deep scans (s)", f"{samples[2][0] - t0:.1f}")
            row(label, "  CPU per target, cycles 1+2 (ms)", f"{(samples[2][1] - c0) / n * 1000:.2f}")
        for k in (3, 4):
            if k in samples:
                row(label, f"cycle {k}, steady (s)", f"{samples[k][0] - samples[k - 1][0]:.1f}",
                    "goal <= 60 s at 10,000" if n >= 10000 else "")
        if 4 in samples:
            _, c2, s2 = samples[2]
            _, c4, s4 = samples[4]
            row(label, "CPU per probe, cycles 3-4 (ms)", f"{(c4 - c2) / max(s4 - s2, 1) * 1000:.2f}")
            row(label, "probes per second, cycles 3-4", f"{(s4 - s2) / max(samples[4][0] - samples[2][0], 1e-9):.0f}")
        row(label, "handshake failures at the fake server", str(st.get("handshake_failures", "?")))
        if scrape:
            def rest():
                # Same targets, interval 1h: each is probed once more within 15 s, then rests.
                write_config(cfg, a, endpoints=eps, interval="1h", concurrency=concurrency)
                reload(exp)
            scenario_scrape(a, exp, n, rest)
        hwm = status_kb(exp.pid, "VmHWM")
        rss_busy = status_kb(exp.pid, "VmRSS")
        # Back to an empty config: probes in flight end within the timeout, then nothing may be
        # left open but what the idle exporter had.
        write_config(cfg, a)
        reload(exp)
        wait_until(lambda: fd_count(exp.pid) <= fd0, 15, step=0.5)
        time.sleep(1)
        fd1 = fd_count(exp.pid)
        row(label, "peak RSS (VmHWM, MB)", f"{hwm / 1024:.0f}", "goal <= 150 MB at 10,000" if n >= 10000 else "")
        row(label, "RSS with results / idle before (MB)", f"{rss_busy / 1024:.0f} / {rss0 / 1024:.0f}")
        row(label, "open fds: idle before / max / idle after", f"{fd0} / {fd_max} / {fd1}",
            "goal: no leak")
    finally:
        exp.stop()
        fake.stop()


def scenario_scrape(a, exp, n, rest=None):
    label = f"scrape /metrics, {n} endpoints"
    count = 20 if a.quick else 50
    url = f"http://{EXPORTER_LISTEN}/metrics"
    body = http_body(url, timeout=120)
    series = sum(1 for l in body.splitlines() if l and not l.startswith("#"))
    plain, zipped = [], []
    size_plain = size_gz = 0
    # 50 scrapes of each kind, or as many as fit in the time budget when one scrape takes
    # seconds (the count is printed with the figures).
    budget = 40 if a.quick else 150
    rss0 = status_kb(exp.pid, "VmRSS")
    threads0 = threads_by_nice(exp.pid)
    end = time.time() + budget
    for _ in range(count):  # probes keep running meanwhile (interval 1s)
        code, t, size_plain = curl(url, timeout=120)
        plain.append(t)
        if time.time() > end:
            break
    threads1 = threads_by_nice(exp.pid)
    rss1 = status_kb(exp.pid, "VmRSS")
    end = time.time() + budget
    for _ in range(count):
        code, t, size_gz = curl(url, headers=["Accept-Encoding: gzip"], timeout=120)
        zipped.append(t)
        if time.time() > end:
            break
    row(label, "series / body (MB)", f"{series} / {size_plain / 1e6:.1f}")
    row(label, f"scrape median / max of {len(plain)} (ms)",
        f"{statistics.median(plain) * 1000:.0f} / {max(plain) * 1000:.0f}", "goal <= 100 ms median")
    row(label, f"gzip: body (MB), median / max of {len(zipped)} (ms)",
        f"{size_gz / 1e6:.2f}, {statistics.median(zipped) * 1000:.0f} / {max(zipped) * 1000:.0f}")
    # Where a scrape's wall time goes: the HTTP threads' CPU and their wait for a CPU (run
    # queue), per scrape, beside what the probe threads (nice 10) ran meanwhile.
    for nice, who in ((0, "HTTP threads"), (10, "probe threads (nice 10)")):
        if nice in threads1:
            b = threads1[nice]
            z = threads0.get(nice, (0.0, 0.0, 0))
            k = 1000 / len(plain)
            row(label, f"  {who}: CPU / run-queue wait per scrape (ms), runs per scrape",
                f"{(b[0] - z[0]) * k:.0f} / {(b[1] - z[1]) * k:.0f}, {(b[2] - z[2]) / len(plain):.0f}")
    row(label, f"RSS before / after {len(plain)} scrapes (MB)", f"{rss0 / 1024:.0f} / {rss1 / 1024:.0f}")
    if rest is None:
        return
    # The figures above are taken while the fleet at interval 1s keeps both cores busy (the
    # exporter probing flat out and the fake servers answering). The same scrapes with the
    # probes at rest tell the scrape's own cost from that contention.
    rest()
    time.sleep(5)
    quiet = 0
    end = time.time() + 60 + n * 0.01
    while time.time() < end and quiet < 3:
        c = cpu_seconds(exp.pid)
        time.sleep(1)
        quiet = quiet + 1 if cpu_seconds(exp.pid) - c < 0.05 else 0
    at_rest = []
    for _ in range(count):
        code, t, size_rest = curl(url, timeout=120)
        at_rest.append(t)
    row(label, f"at rest (probes idle{'' if quiet >= 3 else ', NOT reached'}): body (MB), "
        f"median / max of {len(at_rest)} (ms)",
        f"{size_rest / 1e6:.1f}, {statistics.median(at_rest) * 1000:.0f} / {max(at_rest) * 1000:.0f}",
        "goal <= 100 ms median")


# --- scenario 5: the first minutes of a big fleet --------------------------------------------

def scenario_first(a, n, concurrency, seconds):
    """RSS, CPU and progress of the first `seconds` after a reload to n fake endpoints: the fast
    probes and the first deep scans (at most one per address at a time, and since the scan gate,
    max(1, concurrency / 8) at once). For comparing builds over the same window; the first scans
    of a big fleet last longer than this window."""
    label = f"first {seconds} s of {n} @ concurrency {concurrency}"
    print(f"\n== {label}: fake STARTTLS servers, interval 1s, timeout 10s", flush=True)
    eps = fleet_endpoints(101, n)
    fake = start_fake(a, "normal", eps, f"fake-first-{n}-{concurrency}")
    cfg = os.path.join(a.work, f"first-{n}-{concurrency}.toml")
    write_config(cfg, a)
    exp = start_exporter(a, cfg, name=f"mailsec-first-{n}-{concurrency}")
    try:
        time.sleep(1)
        rss0 = status_kb(exp.pid, "VmRSS")
        write_config(cfg, a, endpoints=eps, concurrency=concurrency)
        c0, t0 = cpu_seconds(exp.pid), time.time()
        reload(exp)
        marks = [30, 60, 120, 180, 240, 300, 450, 600, 900]
        rss_at = {}
        rss_max = 0
        while time.time() - t0 < seconds:
            time.sleep(2)
            rss = status_kb(exp.pid, "VmRSS")
            rss_max = max(rss_max, rss)
            for m in marks:
                if m not in rss_at and m <= seconds and time.time() - t0 >= m:
                    rss_at[m] = rss
        hwm = status_kb(exp.pid, "VmHWM")
        cpu = cpu_seconds(exp.pid) - c0
        st = control_stats() or {}
        body = http_body(f"http://{EXPORTER_LISTEN}/metrics", timeout=120)
        scanned = sum(1 for l in body.splitlines() if l.startswith("mailsec_scan_handshakes{"))
        row(label, "RSS idle before (MB)", f"{rss0 / 1024:.0f}")
        row(label, "RSS at " + " / ".join(f"{m}" for m in sorted(rss_at)) + " s (MB)",
            " / ".join(f"{rss_at[m] / 1024:.0f}" for m in sorted(rss_at)))
        row(label, f"peak RSS over the {seconds} s (VmHWM, MB)", f"{hwm / 1024:.0f}",
            "goal <= 150 MB at 10,000" if n >= 10000 else "")
        row(label, "fast probes served / endpoints scanned", f"{st.get('sessions', '?')} / {scanned}")
        row(label, "exporter CPU (s)", f"{cpu:.1f}")
    finally:
        exp.stop()
        fake.stop()


# --- scenario 3: slow and dead servers --------------------------------------------------------

def scenario_slow(a, n_each, concurrency, timeout_s):
    n = 2 * n_each
    label = f"{n_each} silent + {n_each} black-holed"
    # Probes start in waves of `concurrency` that all end at their timeout together.
    expect = timeout_s * -(-n // concurrency)
    print(f"\n== {label} @ concurrency {concurrency}, timeout {timeout_s}s: expected cycle ~ "
          f"timeout x ceil(endpoints / concurrency) = {expect:.0f} s", flush=True)
    silent = fleet_endpoints(102, n_each)
    hole = fleet_endpoints(103, n_each)
    f1 = start_fake(a, "silent", silent, "fake-silent")
    f2 = start_fake(a, "blackhole", hole, "fake-blackhole")
    cfg = os.path.join(a.work, "slow.toml")
    write_config(cfg, a)
    exp = start_exporter(a, cfg, name="mailsec-slow")
    try:
        time.sleep(1)
        fd0 = fd_count(exp.pid)
        url = f"http://{EXPORTER_LISTEN}/metrics"

        def probes():
            return metric_sum(http_body(url, timeout=60), "mailsec_probes_total",
                              ['kind="endpoint"'])

        base = probes()
        write_config(cfg, a, endpoints=silent + hole, concurrency=concurrency,
                     timeout=f"{timeout_s}s")
        c0, t0 = cpu_seconds(exp.pid), time.time()
        reload(exp)
        marks = {}
        fd_max = 0
        for k in (1, 2, 3):
            # The first deep scan of every silent endpoint (it accepted a connection) follows a
            # probe when a scan slot (max(1, concurrency / 8)) is free, and costs another timeout
            # each: cycles are counted in probes of all endpoints, so not exact per endpoint.
            scans = n_each * timeout_s / max(1, concurrency // 8)
            end = time.time() + 3 * expect + 30 + (scans if k == 2 else 0)
            while time.time() < end:
                fd_max = max(fd_max, fd_count(exp.pid))
                if probes() - base >= k * n:
                    marks[k] = (time.time(), cpu_seconds(exp.pid))
                    break
                time.sleep(0.5)
            if k not in marks:
                row(label, f"cycle {k}", f"> {end - t0:.0f} s after the reload (stopped)")
                break
        if 2 in marks:
            row(label, "cycles 1+2 incl. first deep scans (s)", f"{marks[2][0] - t0:.1f}",
                f"expected ~{2 * expect:.0f} s + scans")
        if 3 in marks:
            row(label, "cycle 3, steady (s)", f"{marks[3][0] - marks[2][0]:.1f}",
                f"expected ~{expect:.0f} s, never more")
            row(label, "CPU per probe, cycle 3 (ms)", f"{(marks[3][1] - marks[2][1]) / n * 1000:.2f}")
        write_config(cfg, a)
        reload(exp)
        wait_until(lambda: fd_count(exp.pid) <= fd0, timeout_s + 10, step=0.5)
        row(label, "open fds: idle before / max / idle after", f"{fd0} / {fd_max} / {fd_count(exp.pid)}")
    finally:
        exp.stop()
        f2.stop()
        f1.stop()


def machine():
    def sh(cmd):
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    return {
        "date": sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1") + f", {os.cpu_count()} cores",
        "ram": sh("free -g | awk '/^Mem:/{print $2\" GB\"}'"),
        "kernel": sh("uname -r"),
        "load": sh("cut -d' ' -f1-3 /proc/loadavg"),
        "revision": sh(f"git -C {ROOT_DIR} rev-parse --short HEAD"),
        "openssl": sh("openssl version"),
        "blackbox": sh("prometheus-blackbox-exporter --version 2>&1 | head -1"),
    }


ROOT_DIR = "."


def main():
    global ROOT_DIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pids", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", default="probe,fleet,slow,scrape")
    ap.add_argument("--sizes", default="", help="fleet sizes, e.g. 1000,10000")
    ap.add_argument("--concurrency", default="256,1024", help="fleet concurrencies")
    ap.add_argument("--first-seconds", type=int, default=300, help="window of --only first")
    ap.add_argument("--fleet-nice", type=int, default=10,
                    help="nice of the fake fleet (0: the same priority as the exporter and curl)")
    a = ap.parse_args()
    ROOT_DIR = a.root
    only = set(a.only.split(","))
    m = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in m.items()), flush=True)
    if "probe" in only:
        scenario_probe(a)
    if "fleet" in only or "scrape" in only:
        sizes = [1000] if a.quick else [1000, 10000]
        if a.sizes:
            sizes = [int(x) for x in a.sizes.split(",")]
        for n in sizes:
            for c in [int(x) for x in a.concurrency.split(",")]:
                if "fleet" not in only and not (n == sizes[-1] and c == 256):
                    continue
                scenario_fleet(a, n, c, scrape=("scrape" in only and n == sizes[-1] and c == 256))
    if "first" in only:
        for n in ([int(x) for x in a.sizes.split(",")] if a.sizes else [10000]):
            for c in [int(x) for x in a.concurrency.split(",")]:
                scenario_first(a, n, c, a.first_seconds)
    if "slow" in only:
        scenario_slow(a, 200 if a.quick else 1000, 256, 5)
    print(f"\nload average at the end: {open('/proc/loadavg').read().split()[:3]}")
    print("\n| scenario | figure | value | goal |\n|---|---|---|---|")
    for s, f, v, g in ROWS:
        print(f"| {s} | {f} | {v} | {g} |")


if __name__ == "__main__":
    sys.exit(main())
