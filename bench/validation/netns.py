"""A throttled network on one machine: a network namespace per rank, each
joined to a bridge in a hub namespace by a veth pair with a tbf rate limit on
both ends (the rank's uplink and its downlink), as recipe 2 of
shared/notes/slow-network.md. mpirun runs in the hub and starts each rank in
its own namespace (MPMD), with Open MPI kept on TCP over the bridge.

Nothing is sent outside the namespaces made here; they are removed when the
`with` block ends, also on an error or a signal (the caller turns SIGTERM and
SIGINT into SystemExit so that `finally` runs).
"""
import os
import shutil
import subprocess

from .runs import MPIRUN

_instances = 0


class NetnsUnavailable(Exception):
    """Namespaces cannot be made here (not root, no ip/tc, no veth or bridge)."""


def unavailable_reason():
    """Why namespaces cannot be made, or None if they can be tried."""
    if os.geteuid() != 0:
        return "not root (network namespaces need CAP_NET_ADMIN)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"no '{tool}' command (iproute2)"
    return None


class SlowNetwork:
    """`ranks` namespaces at `rate` (a tc rate: "100mbit", "1gbit")."""

    def __init__(self, ranks, rate):
        global _instances
        _instances += 1
        self.ranks = ranks
        self.rate = rate
        # The pid keeps two scripts apart; the counter, two networks of one script.
        self.prefix = f"dsv{os.getpid() % 100000}n{_instances}"
        self.subnet_base = f"10.79.{_instances % 250}"
        self.subnet = f"{self.subnet_base}.0/24"
        self.hub = f"{self.prefix}hub"
        self.rank_ns = [f"{self.prefix}r{i}" for i in range(ranks)]
        self.made = []
        self.name = f"netns {ranks}x{rate}"

    def _ip(self, *args, netns=None):
        cmd = (["ip", "netns", "exec", netns] if netns else []) + list(args)
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=30)
        if done.returncode != 0:
            raise NetnsUnavailable(f"'{' '.join(cmd)}' failed: {done.stdout.strip()}")

    def __enter__(self):
        try:
            for ns in [self.hub] + self.rank_ns:
                self._ip("ip", "netns", "add", ns)
                self.made.append(ns)
                self._ip("ip", "link", "set", "lo", "up", netns=ns)
            self._ip("ip", "link", "add", "br0", "type", "bridge", netns=self.hub)
            self._ip("ip", "addr", "add", f"{self.subnet_base}.1/24", "dev", "br0", netns=self.hub)
            self._ip("ip", "link", "set", "br0", "up", netns=self.hub)
            tbf = ["tbf", "rate", self.rate, "burst", "256kb", "latency", "50ms"]
            for i, ns in enumerate(self.rank_ns):
                rank_if, hub_if = f"v{i}", f"h{i}"
                self._ip("ip", "link", "add", rank_if, "netns", ns, "type", "veth", "peer", "name",
                         hub_if, "netns", self.hub)
                self._ip("ip", "addr", "add", f"{self.subnet_base}.{10 + i}/24", "dev", rank_if,
                         netns=ns)
                self._ip("ip", "link", "set", rank_if, "up", netns=ns)
                self._ip("ip", "link", "set", hub_if, "master", "br0", netns=self.hub)
                self._ip("ip", "link", "set", hub_if, "up", netns=self.hub)
                self._ip("tc", "qdisc", "add", "dev", rank_if, "root", *tbf, netns=ns)
                self._ip("tc", "qdisc", "add", "dev", hub_if, "root", *tbf, netns=self.hub)
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def remove(self):
        """Deletes every namespace made (their veths and bridge go with them)."""
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        self.made = []

    def command(self, ranks, argv):
        """mpirun in the hub, one rank per namespace, over TCP on the bridge only."""
        if ranks != self.ranks:
            raise ValueError(f"{self.name} has {self.ranks} ranks, not {ranks}")
        # Without the PMIx setting the ranks cannot reach the hub's PMIx server
        # ("OPAL ERROR: Unreachable" in MPI_Init); without btl tcp,self Open MPI
        # would use shared memory and the rate limit would do nothing.
        cmd = ["ip", "netns", "exec", self.hub, "env",
               f"PMIX_MCA_ptl_tcp_if_include={self.subnet}"] + MPIRUN + [
            "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", self.subnet,
            "--mca", "oob_tcp_if_include", self.subnet]
        for i, ns in enumerate(self.rank_ns):
            if i:
                cmd.append(":")
            cmd += ["-np", "1", "ip", "netns", "exec", ns] + argv
        return cmd
