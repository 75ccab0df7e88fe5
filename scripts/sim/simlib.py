"""Shared state helpers of the simulated GPU node (see README.md in this folder).

The simulated `nvidia-smi` runs about twice a second per node, so this module must stay cheap to
import: it imports only `os` and parses its small JSON files itself, falling back to the `json`
module only for input it does not handle (escapes in strings, odd numbers).

Next to each JSON state file it keeps a one-line-per-record "flat" copy (gpus.flat,
procs/<pid>.flat) that the plain-sh fast path of `nvidia-smi` reads without starting Python.
JSON stays the source of truth: a flat file older than its JSON file is ignored (the fast path
then hands over to Python, which rewrites it).
"""

import os

STATE_FILE = "gpus.json"
PROCS_DIR = "procs"

DRIVER_FAILURE_TEXT = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)
NO_DEVICES_TEXT = "No devices were found"


# --- a small JSON reader ---------------------------------------------------------------------

class _Unsupported(ValueError):
    pass


_WS = " \t\r\n"
_NUM = "+-0123456789.eE"


def _skip(s, i):
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def _string(s, i):
    j = s.find('"', i + 1)
    if j < 0:
        raise _Unsupported("unterminated string")
    raw = s[i + 1:j]
    if "\\" in raw:
        raise _Unsupported("escape")
    return raw, j + 1


def _value(s, i):
    c = s[i]
    if c == '"':
        return _string(s, i)
    if c == "{":
        obj = {}
        i = _skip(s, i + 1)
        if s[i] == "}":
            return obj, i + 1
        while True:
            if s[i] != '"':
                raise _Unsupported("key")
            key, i = _string(s, i)
            i = _skip(s, i)
            if s[i] != ":":
                raise _Unsupported("colon")
            obj[key], i = _value(s, _skip(s, i + 1))
            i = _skip(s, i)
            if s[i] == ",":
                i = _skip(s, i + 1)
            elif s[i] == "}":
                return obj, i + 1
            else:
                raise _Unsupported("object")
    if c == "[":
        arr = []
        i = _skip(s, i + 1)
        if s[i] == "]":
            return arr, i + 1
        while True:
            v, i = _value(s, i)
            arr.append(v)
            i = _skip(s, i)
            if s[i] == ",":
                i = _skip(s, i + 1)
            elif s[i] == "]":
                return arr, i + 1
            else:
                raise _Unsupported("array")
    if s.startswith("true", i):
        return True, i + 4
    if s.startswith("false", i):
        return False, i + 5
    if s.startswith("null", i):
        return None, i + 4
    j = i
    n = len(s)
    while j < n and s[j] in _NUM:
        j += 1
    tok = s[i:j]
    if not tok:
        raise _Unsupported("token")
    if "." in tok or "e" in tok or "E" in tok:
        return float(tok), j
    return int(tok), j


def loads(text):
    """Parses JSON text; the subset our tools write is handled without importing json."""
    try:
        value, pos = _value(text, _skip(text, 0))
        if _skip(text, pos) != len(text):
            raise _Unsupported("trailing data")
        return value
    except (_Unsupported, IndexError, ValueError):
        import json  # rare: escapes or malformed input; json gives the real error
        return json.loads(text)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return loads(f.read())


_cache = {}


def read_json_cached(path):
    """read_json, reusing the last parse while the file's inode, size and mtime are unchanged
    (nvidia-smi -l re-reads the same files every round). Callers must not mutate the result."""
    st = os.stat(path)
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    data = read_json(path)
    _cache[path] = (key, data)
    return data


def write_json(path, data):
    """Writes atomically (temp file + rename) so readers never see half a file."""
    import json
    d, base = os.path.split(path)
    tmp = os.path.join(d, ".%s.%d.tmp" % (base, os.getpid()))
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


# --- node state ------------------------------------------------------------------------------

def sim_dir():
    return os.environ.get("GPUQ_SIM_DIR") or None


def load_node(simdir, cached=True):
    """The node's state: {"gpus": [...], "driver_failure": bool, ...}. A bare list is accepted.
    With cached, the result may be shared with later calls: do not mutate it."""
    path = os.path.join(simdir, STATE_FILE)
    hit = _cache.get(path)
    data = read_json_cached(path) if cached else read_json(path)
    if isinstance(data, list):
        data = {"gpus": data}
    elif "gpus" not in data:
        data = dict(data, gpus=[])
    if hit is None or _cache.get(path) is not hit:  # parsed afresh: is gpus.flat up to date?
        _refresh_flat(simdir, data)
    return data


def save_node(simdir, node):
    write_json(os.path.join(simdir, STATE_FILE), node)
    write_text(os.path.join(simdir, FLAT_FILE), node_flat(node))


# --- flat copies for the sh fast path of nvidia-smi ------------------------------------------

FLAT_FILE = "gpus.flat"


def write_text(path, text):
    d, base = os.path.split(path)
    tmp = os.path.join(d, ".%s.%d.tmp" % (base, os.getpid()))
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _plain(text):
    """True if text can sit in a flat file's space-separated line."""
    return bool(text) and "\n" not in text and "\r" not in text and "\t" not in text


def node_flat(node):
    """gpus.flat: "slow 0|1", "driver V", "count N", then per GPU
    "gpu INDEX MEM_TOTAL RESERVED BASE_USED BASE_UTIL TEMPERATURE UUID BUS_ID MODEL".
    slow 1 sends every query to the Python implementation (failures, no GPUs, odd text)."""
    gpus = [Gpu(i, spec) for i, spec in enumerate(node.get("gpus") or [])]
    driver = str(node.get("driver_version", "535.104.05"))
    slow = bool(node.get("driver_failure")) or not gpus or not _plain(driver) or " " in driver
    lines = []
    for g in gpus:
        try:
            temp = int(g.spec.get("temperature_c", 30))
        except (TypeError, ValueError):
            temp, slow = 0, True
        if g.failed or not all(_plain(x) and " " not in x for x in (g.uuid, g.bus_id)) or not _plain(g.model) \
                or g.model != g.model.strip():
            slow = True
        lines.append("gpu %d %d %d %d %d %d %s %s %s" % (g.index, g.mem_total, g.mem_reserved, g.mem_used,
                                                          g.util, temp, g.uuid, g.bus_id, g.model))
    head = ["# generated from gpus.json for the sh fast path of nvidia-smi; edit gpus.json instead",
            "slow %d" % slow, "driver %s" % driver, "count %d" % len(gpus)]
    return "\n".join(head + lines) + "\n"


def _refresh_flat(simdir, node):
    flat = os.path.join(simdir, FLAT_FILE)
    try:
        if os.stat(flat).st_mtime_ns >= os.stat(os.path.join(simdir, STATE_FILE)).st_mtime_ns:
            return
    except OSError:
        pass
    try:
        write_text(flat, node_flat(node))
    except (OSError, ValueError, TypeError):
        pass  # read-only state folder: the fast path just stays off


_HAVE_PROC = os.path.isdir("/proc/self")


def proc_stat(pid):
    """(state letter, start time in clock ticks) of a live pid, read from /proc; None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return rest[0].decode(), int(rest[19])


def pid_alive(pid, starttime=None):
    """True while pid runs; zombies count as gone, and so does a recycled pid whose start time
    differs from the one recorded when the process registered."""
    if pid <= 0:
        return False
    if not _HAVE_PROC:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    st = proc_stat(pid)
    if st is None or st[0] in ("Z", "X", "x"):
        return False
    if starttime is not None and st[1] != starttime:
        return False
    return True


def my_starttime():
    st = proc_stat(os.getpid())
    return st[1] if st else None


def proc_path(simdir, pid):
    """procs/<pid>.json; the pid is zero-padded so that name order is pid order."""
    return os.path.join(simdir, PROCS_DIR, "%010d.json" % pid)


def register_proc(simdir, entry):
    """Writes procs/<pid>.json, then its flat copy procs/<pid>.flat, so that the flat copy is
    never older than the JSON unless someone edits the JSON later (the fast path then leaves
    the query to Python). Flat line: "PID STARTTIME MEM_MIB UTIL_PCT GPU[,GPU...] NAME"."""
    pid = int(entry["pid"])
    os.makedirs(os.path.join(simdir, PROCS_DIR), exist_ok=True)
    path = proc_path(simdir, pid)
    write_json(path, entry)
    name = str(entry.get("name") or "python")
    gpus = ",".join(str(int(i)) for i in entry.get("gpus") or ()) or "-"
    if _plain(name) and name == name.strip():
        st = entry.get("starttime")
        write_text(path[:-5] + ".flat", "%d %s %d %d %s %s\n" % (
            pid, "-" if st is None else int(st), int(entry.get("mem_mib", 0) or 0),
            int(entry.get("util_pct", 0) or 0), gpus, name))


def unregister_proc(simdir, pid, path=None):
    path = path or proc_path(simdir, pid)
    for p in (path, path[:-5] + ".flat"):
        try:
            os.unlink(p)
        except OSError:
            pass


def live_procs(simdir, prune=True):
    """The registered GPU processes that are still alive, by pid. Files of dead processes are
    removed (when prune) and never counted."""
    d = os.path.join(simdir, PROCS_DIR)
    try:
        names = os.listdir(d)
    except OSError:
        return []
    out = []
    for name in names:
        if name[0] == "." or not name.endswith(".json"):
            continue
        path = os.path.join(d, name)
        try:
            p = read_json_cached(path)
            pid = int(p["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # vanished meanwhile, or not one of ours
        if pid_alive(pid, p.get("starttime")):
            out.append(p)
        else:
            _cache.pop(path, None)
            if prune:
                unregister_proc(simdir, pid, path)
    out.sort(key=lambda p: p["pid"])
    return out


class Gpu:
    """One GPU with the load its live processes put on it."""

    __slots__ = ("index", "spec", "uuid", "model", "bus_id", "mem_total", "mem_reserved",
                 "mem_used", "util", "procs", "failed", "fail_style")

    def __init__(self, index, spec):
        self.index = index
        self.spec = spec
        self.uuid = spec.get("uuid") or "GPU-00000000-0000-0000-0000-%012x" % index
        self.model = spec.get("model") or "NVIDIA A100-SXM4-80GB"
        self.bus_id = spec.get("bus_id") or "00000000:%02X:00.0" % (index + 1)
        self.mem_total = int(spec.get("mem_total_mib", 81920))
        self.mem_reserved = int(spec.get("reserved_mib", 0) or 0)
        self.mem_used = int(spec.get("base_mem_used_mib", 0) or 0) + int(spec.get("phantom_mem_mib", 0) or 0)
        self.util = int(spec.get("base_util_pct", 0) or 0) + int(spec.get("phantom_util_pct", 0) or 0)
        self.procs = []
        self.failed = spec.get("failed") or None
        if self.failed is True:
            self.failed = "GPU is lost"
        self.fail_style = spec.get("fail_style") or "values"

    @property
    def mem_free(self):
        return max(0, self.mem_total - self.mem_reserved - self.mem_used)

    @property
    def bus_id_short(self):
        """"0000:07:00.0", the form nvidia-smi's handle errors print."""
        b = self.bus_id
        return b[4:] if len(b) == 16 else b


def snapshot(simdir):
    """(node dict, [Gpu]) with memory/utilisation summed over live processes."""
    node = load_node(simdir)
    gpus = [Gpu(i, spec) for i, spec in enumerate(node["gpus"])]
    n = len(gpus)
    for p in live_procs(simdir):
        mem = int(p.get("mem_mib", 0) or 0)
        util = int(p.get("util_pct", 0) or 0)
        for idx in p.get("gpus") or ():
            if isinstance(idx, int) and 0 <= idx < n:
                g = gpus[idx]
                g.mem_used += mem
                g.util += util
                g.procs.append(p)
    for g in gpus:
        g.util = max(0, min(100, g.util))
        g.mem_used = max(0, min(g.mem_total - g.mem_reserved, g.mem_used))
    return node, gpus


def select_gpus(gpus, spec):
    """Parses nvidia-smi's -i argument (indices, UUIDs or PCI bus ids, comma-separated) into
    the matching GPUs, in the order given; None if any item matches nothing."""
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        found = None
        if item.isdigit():
            i = int(item)
            if i < len(gpus):
                found = gpus[i]
        else:
            low = item.lower()
            for g in gpus:
                if g.uuid.lower() == low or g.bus_id.lower() == low or \
                        g.bus_id_short.lower() == low or g.bus_id.lower().endswith(low):
                    found = g
                    break
        if found is None:
            return None
        if found not in out:
            out.append(found)
    return out
