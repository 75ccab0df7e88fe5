"""The simulated nvidia-smi (entry point: the `nvidia-smi` script next to this file).

Implements the subset gpuq uses, in nvidia-smi's own output shapes: --query-gpu,
--query-compute-apps, --format=csv[,noheader][,nounits], -i, -l/-lms, -L, -f, plus a plain
summary table. State comes from $GPUQ_SIM_DIR (see README.md). Kept import-light on purpose.
"""

import os
import sys
import time

import simlib

# Exit codes of real nvidia-smi (they mirror NVML return codes).
EXIT_OK = 0
EXIT_INVALID_ARG = 2
EXIT_NOT_FOUND = 6
EXIT_DRIVER = 9
EXIT_GPU_LOST = 15

NA = "[N/A]"

# --query-gpu fields: canonical name -> (unit or None, keeps its value on a failed GPU)
GPU_FIELDS = {
    "timestamp": (None, True),
    "driver_version": (None, True),
    "count": (None, True),
    "name": (None, True),
    "serial": (None, True),
    "uuid": (None, True),
    "pci.bus_id": (None, True),
    "pci.domain": (None, True),
    "pci.bus": (None, True),
    "pci.device": (None, True),
    "pci.device_id": (None, True),
    "index": (None, True),
    "memory.total": ("MiB", False),
    "memory.reserved": ("MiB", False),
    "memory.used": ("MiB", False),
    "memory.free": ("MiB", False),
    "utilization.gpu": ("%", False),
    "utilization.memory": ("%", False),
    "temperature.gpu": (None, False),
    "temperature.memory": (None, False),
    "fan.speed": ("%", False),
    "pstate": (None, False),
    "power.draw": ("W", False),
    "power.limit": ("W", False),
    "enforced.power.limit": ("W", False),
    "clocks.current.sm": ("MHz", False),
    "clocks.current.memory": ("MHz", False),
    "compute_mode": (None, True),
    "persistence_mode": (None, True),
    "mig.mode.current": (None, False),
    "vbios_version": (None, True),
}
GPU_ALIASES = {
    "gpu_name": "name",
    "gpu_serial": "serial",
    "gpu_uuid": "uuid",
    "gpu_bus_id": "pci.bus_id",
    "clocks.sm": "clocks.current.sm",
    "clocks.mem": "clocks.current.memory",
}

# --query-compute-apps fields: canonical name -> unit
APP_FIELDS = {
    "timestamp": None,
    "gpu_name": None,
    "gpu_bus_id": None,
    "gpu_serial": None,
    "gpu_uuid": None,
    "pid": None,
    "process_name": None,
    "used_gpu_memory": "MiB",
}
APP_ALIASES = {"name": "process_name", "used_memory": "used_gpu_memory"}


class Usage(Exception):
    def __init__(self, text, code=EXIT_INVALID_ARG):
        Exception.__init__(self, text)
        self.text = text
        self.code = code


class Options:
    def __init__(self):
        self.query_gpu = None
        self.query_apps = None
        self.fmt = None
        self.ids = None
        self.loop_s = None
        self.list_gpus = False
        self.filename = None
        self.help = None
        self.version = False


def _unrecognized(opt):
    return Usage("ERROR: Option %s is not recognized. Please run 'nvidia-smi -h' for help.\n" % opt)


def parse_args(argv):
    o = Options()
    i = 0
    n = len(argv)

    def value(name, inline):
        nonlocal i
        if inline is not None:
            return inline
        if i + 1 >= n:
            raise Usage("ERROR: Option %s requires an argument. Please run 'nvidia-smi -h' for help.\n" % name)
        i += 1
        return argv[i]

    while i < n:
        arg = argv[i]
        name, eq, inline = arg.partition("=")
        inline = inline if eq else None
        if name == "--query-gpu":
            o.query_gpu = value(name, inline)
        elif name == "--query-compute-apps":
            o.query_apps = value(name, inline)
        elif name == "--format":
            o.fmt = value(name, inline)
        elif name in ("-i", "--id"):
            o.ids = value(name, inline)
        elif name in ("-l", "--loop"):
            if inline is None and i + 1 < n and argv[i + 1].isdigit():
                inline = argv[i + 1]
                i += 1
            try:
                o.loop_s = float(inline) if inline else 5.0
            except ValueError:
                raise _unrecognized(inline)
        elif name in ("-lms", "--loop-ms"):
            v = value(name, inline)
            if not v.isdigit():
                raise _unrecognized(v)
            o.loop_s = int(v) / 1000.0
        elif name in ("-L", "--list-gpus"):
            o.list_gpus = True
        elif name in ("-f", "--filename"):
            o.filename = value(name, inline)
        elif name in ("-h", "--help", "--help-query-gpu", "--help-query-compute-apps"):
            o.help = name
        elif name == "--version":
            o.version = True
        else:
            raise _unrecognized(arg)
        i += 1
    return o


def parse_format(fmt):
    header = True
    units = True
    for part in (fmt or "csv").split(","):
        part = part.strip()
        if part == "csv":
            pass
        elif part == "noheader":
            header = False
        elif part == "nounits":
            units = False
        else:
            raise _unrecognized(part)
    return header, units


def parse_fields(spec, table, aliases):
    fields = []
    for raw in spec.split(","):
        f = raw.strip()
        if not f:
            continue
        canon = aliases.get(f, f)
        if canon not in table:
            raise Usage('Field "%s" is not a valid field to query.\n\n' % f)
        fields.append(canon)
    if not fields:
        raise Usage('Field "" is not a valid field to query.\n\n')
    return fields


def header_line(fields, table_units):
    out = []
    for f in fields:
        unit = table_units(f)
        out.append("%s [%s]" % (f, unit) if unit else f)
    return ", ".join(out) + "\n"


def timestamp():
    t = time.time()
    return time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(t)) + ".%03d" % (int(t * 1000) % 1000)


def _with_unit(v, unit, units):
    return "%s %s" % (v, unit) if units else str(v)


def gpu_value(field, g, node, ctx, units):
    spec = g.spec
    if field == "timestamp":
        return ctx["ts"]
    if field == "driver_version":
        return str(node.get("driver_version", "535.104.05"))
    if field == "count":
        return str(ctx["count"])
    if field == "name":
        return g.model
    if field == "serial":
        return str(spec.get("serial", "132%010d" % (g.index + 1)))
    if field == "uuid":
        return g.uuid
    if field == "pci.bus_id":
        return g.bus_id
    if field == "pci.domain":
        return "0x" + g.bus_id[:-8][-4:]
    if field == "pci.bus":
        return "0x" + g.bus_id[-7:-5]
    if field == "pci.device":
        return "0x" + g.bus_id[-4:-2]
    if field == "pci.device_id":
        return str(spec.get("pci_device_id", "0x20B210DE"))
    if field == "index":
        return str(g.index)
    if field == "vbios_version":
        return str(spec.get("vbios_version", "92.00.36.00.02"))
    if g.failed:
        return "[%s]" % g.failed
    if field == "memory.total":
        return _with_unit(g.mem_total, "MiB", units)
    if field == "memory.reserved":
        return _with_unit(g.mem_reserved, "MiB", units)
    if field == "memory.used":
        return _with_unit(g.mem_used, "MiB", units)
    if field == "memory.free":
        return _with_unit(g.mem_free, "MiB", units)
    if field == "utilization.gpu":
        return _with_unit(g.util, "%", units)
    if field == "utilization.memory":
        return _with_unit(g.util // 2, "%", units)
    if field == "temperature.gpu":
        return str(int(spec.get("temperature_c", 30)) + (g.util * 3) // 10)
    if field == "temperature.memory":
        return NA
    if field == "fan.speed":
        fan = spec.get("fan_pct")
        return NA if fan is None else _with_unit(fan, "%", units)
    if field == "pstate":
        return "P0"
    if field == "power.draw":
        limit = float(spec.get("power_limit_w", 400.0))
        idle = float(spec.get("power_draw_w", 60.0))
        return _with_unit("%.2f" % (idle + (limit - idle) * g.util / 100.0), "W", units)
    if field in ("power.limit", "enforced.power.limit"):
        return _with_unit("%.2f" % float(spec.get("power_limit_w", 400.0)), "W", units)
    if field == "clocks.current.sm":
        return _with_unit(1410 if g.util else 210, "MHz", units)
    if field == "clocks.current.memory":
        return _with_unit(1593, "MHz", units)
    if field == "compute_mode":
        return "Default"
    if field == "persistence_mode":
        return "Enabled"
    if field == "mig.mode.current":
        return "Disabled"
    return NA


def app_value(field, p, g, ctx, units):
    if field == "timestamp":
        return ctx["ts"]
    if field == "gpu_name":
        return g.model
    if field == "gpu_bus_id":
        return g.bus_id
    if field == "gpu_serial":
        return str(g.spec.get("serial", "132%010d" % (g.index + 1)))
    if field == "gpu_uuid":
        return g.uuid
    if field == "pid":
        return str(p["pid"])
    if field == "process_name":
        return str(p.get("name") or "python")
    if field == "used_gpu_memory":
        return _with_unit(int(p.get("mem_mib", 0) or 0), "MiB", units)
    return NA


def handle_error(g):
    text = g.failed
    if text == "GPU is lost":
        text += ". Reboot the system to recover this GPU"
    return "Unable to determine the device handle for GPU%s: %s\n" % (g.bus_id_short, text)


def render_round(o, node, gpus, selected, first, errors=None):
    """Text of one round and its exit code. Lines about GPUs the driver cannot open go to
    errors (a list; nvidia-smi writes them to stderr)."""
    ctx = {"ts": timestamp(), "count": len(gpus)}
    out = []
    if errors is None:
        errors = out
    code = EXIT_OK
    if o.list_gpus:
        for g in selected:
            if g.failed and g.fail_style == "handle":
                errors.append(handle_error(g))
                code = EXIT_GPU_LOST
            else:
                out.append("GPU %d: %s (UUID: %s)\n" % (g.index, g.model, g.uuid))
        return "".join(out), code
    if o.query_gpu is not None:
        header, units = parse_format(o.fmt)
        fields = parse_fields(o.query_gpu, GPU_FIELDS, GPU_ALIASES)
        if header and first:
            out.append(header_line(fields, lambda f: GPU_FIELDS[f][0]))
        for g in selected:
            if g.failed and g.fail_style == "handle":
                errors.append(handle_error(g))
                code = EXIT_GPU_LOST
                continue
            out.append(", ".join(gpu_value(f, g, node, ctx, units) for f in fields) + "\n")
        return "".join(out), code
    if o.query_apps is not None:
        header, units = parse_format(o.fmt)
        fields = parse_fields(o.query_apps, APP_FIELDS, APP_ALIASES)
        if header and first:
            out.append(header_line(fields, lambda f: APP_FIELDS[f]))
        for g in selected:
            if g.failed:
                if g.fail_style == "handle":
                    errors.append(handle_error(g))
                    code = EXIT_GPU_LOST
                continue
            for p in g.procs:
                out.append(", ".join(app_value(f, p, g, ctx, units) for f in fields) + "\n")
        return "".join(out), code
    return summary(node, gpus, selected), code


def summary(node, gpus, selected):
    """A plain-text table shaped like nvidia-smi's default output (for people, not parsers)."""
    drv = str(node.get("driver_version", "535.104.05"))
    cuda = str(node.get("cuda_version", "12.2"))
    sep = "+-----------------------------------------+----------------------+----------------------+\n"
    line = "+---------------------------------------------------------------------------------------+\n"
    out = [time.strftime("%a %b %d %H:%M:%S %Y") + "       \n", line]
    inner = ("NVIDIA-SMI %s" % drv).ljust(34) + ("Driver Version: %s" % drv).ljust(31) + "CUDA Version: " + cuda
    out.append("| %s |\n" % inner.ljust(85))
    out.append(sep.replace("+", "|", 1).replace("+\n", "|\n"))
    out.append("| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |\n")
    out.append("| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |\n")
    out.append("|                                         |                      |               MIG M. |\n")
    out.append("|=========================================+======================+======================|\n")
    for g in selected:
        if g.failed:
            out.append("| %3d  %-38s| %-20s | %20s |\n" % (g.index, "[%s]" % g.failed, g.bus_id, "ERR!"))
            out.append(sep)
            continue
        temp = int(g.spec.get("temperature_c", 30)) + (g.util * 3) // 10
        limit = float(g.spec.get("power_limit_w", 400.0))
        idle = float(g.spec.get("power_draw_w", 60.0))
        draw = idle + (limit - idle) * g.util / 100.0
        name = g.model if len(g.model) <= 28 else g.model[:25] + "..."
        out.append("| %3d  %-28s   On  | %s Off | %20s |\n" % (g.index, name, g.bus_id, "0"))
        pwr = "%dW / %dW" % (draw, limit)
        mem = "%dMiB / %dMiB" % (g.mem_used, g.mem_total)
        out.append("| N/A  %3dC    P0 %23s | %20s | %6d%%      Default |\n" % (temp, pwr, mem, g.util))
        out.append("|                                         |                      |             Disabled |\n")
        out.append(sep)
    out.append(" " * 89 + "\n")
    out.append(line)
    out.append("| Processes:                                                                            |\n")
    out.append("|  GPU   GI   CI        PID   Type   Process name                            GPU Memory |\n")
    out.append("|        ID   ID                                                             Usage      |\n")
    out.append("|=======================================================================================|\n")
    procs = [(g, p) for g in selected if not g.failed for p in g.procs]
    if not procs:
        out.append("|  No running processes found                                                           |\n")
    for g, p in procs:
        name = str(p.get("name") or "python")[-38:]
        out.append("|  %3d   N/A  N/A  %9d      C   %-38s %7dMiB |\n"
                   % (g.index, p["pid"], name, int(p.get("mem_mib", 0) or 0)))
    out.append(line)
    return "".join(out)


HELP = """NVIDIA System Management Interface (simulated by gpuq, see scripts/sim/README.md)

    nvidia-smi [--query-gpu=FIELDS | --query-compute-apps=FIELDS] --format=csv[,noheader][,nounits]
               [-i ID[,ID...]] [-l SEC | -lms MS] [-f FILE]
    nvidia-smi -L
"""


def help_text(which):
    if which == "--help-query-gpu":
        return "List of valid properties to query for the switch \"--query-gpu=\":\n\n" + "".join(
            '"%s"\n' % f for f in GPU_FIELDS) + "".join('"%s" (alias of "%s")\n' % a for a in GPU_ALIASES.items())
    if which == "--help-query-compute-apps":
        return "List of valid properties to query for the switch \"--query-compute-apps=\":\n\n" + "".join(
            '"%s"\n' % f for f in APP_FIELDS) + "".join('"%s" (alias of "%s")\n' % a for a in APP_ALIASES.items())
    return HELP


def run(argv, out):
    try:
        o = parse_args(argv)
        if o.help:
            out.write(help_text(o.help))
            return EXIT_OK
        # Validate the query up front, as the real tool does before touching the driver.
        if o.query_gpu is not None:
            parse_format(o.fmt)
            parse_fields(o.query_gpu, GPU_FIELDS, GPU_ALIASES)
        if o.query_apps is not None:
            parse_format(o.fmt)
            parse_fields(o.query_apps, APP_FIELDS, APP_ALIASES)
    except Usage as e:
        out.write(e.text)
        out.flush()
        return e.code

    simdir = simlib.sim_dir()
    if o.filename:
        out = open(o.filename, "a")
    first = True
    while True:
        started = time.monotonic()
        try:
            if not simdir:
                raise FileNotFoundError("GPUQ_SIM_DIR is not set")
            node, gpus = simlib.snapshot(simdir)
        except (OSError, ValueError) as e:
            sys.stderr.write("gpuq sim: cannot read node state: %s\n" % e)
            node, gpus = {"driver_failure": True}, []
        if node.get("driver_failure"):
            out.write(simlib.DRIVER_FAILURE_TEXT + "\n")
            out.flush()
            return EXIT_DRIVER
        if o.version:
            drv = str(node.get("driver_version", "535.104.05"))
            out.write("NVIDIA-SMI version  : %s\nNVML version        : %s\nDRIVER version      : %s\n"
                      "CUDA Version        : %s\n" % (drv, ".".join(drv.split(".")[:2]),
                                                      drv, node.get("cuda_version", "12.2")))
            out.flush()
            return EXIT_OK
        selected = gpus
        if o.ids is not None:
            selected = simlib.select_gpus(gpus, o.ids)
        if not gpus or not selected:
            out.write(simlib.NO_DEVICES_TEXT + "\n")
            out.flush()
            return EXIT_NOT_FOUND
        errors = []
        text, code = render_round(o, node, gpus, selected, first, errors)
        if errors:  # unbuffered stderr comes first when both streams go to one pipe
            sys.stderr.write("".join(errors))
            sys.stderr.flush()
        out.write(text)
        out.flush()
        if o.loop_s is None or o.list_gpus:
            return code
        first = False
        delay = o.loop_s - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)


def main():
    try:
        code = run(sys.argv[1:], sys.stdout)
    except KeyboardInterrupt:
        code = 0
    except BrokenPipeError:
        os._exit(0)  # the reader went away (ssh channel closed): nothing left to say
    return code
