#!/usr/bin/python3
"""Checks the deployment files in deploy/ against the server they deploy.

The server's flags, their SPECINV_* environment names, types and defaults come
from `specinv-server --help` when the binary is given (--server-bin), else from
server/main.cc and server/server.h; the health service name from
server/server.cc. Checked:
  - every YAML file parses; Kubernetes objects have apiVersion/kind/name;
    kustomization.yaml lists every manifest;
  - every SPECINV_* variable set in the Deployment, compose.yaml and the
    Dockerfile is a server flag, with a value of the flag's type;
  - ports: container ports, Services, probes, EXPOSE, nginx upstream and the
    HEALTHCHECK all use the gRPC / metrics ports the server is configured with;
  - probes are native gRPC probes on the health service ("" or the service);
  - terminationGracePeriodSeconds covers preStop + SPECINV_SHUTDOWN_GRACE_S
    (plus a margin, not wildly more); the liveness window outlasts a drain;
    compose's stop_grace_period covers the grace;
  - resources are set and SPECINV_WORKERS matches the CPU request;
  - Service selectors, HPA target and PDB selector match the Deployment;
  - the NetworkPolicy selects the Deployment's pods, admits gRPC and HTTP
    only from labelled client pods and /metrics only from the monitoring
    namespace, on ports that resolve to the server's configured ports, and
    allows no egress but DNS;
  - non-root: runAsUser equals the image user's uid;
  - the client flags used by health checks exist (with --client-bin);
  - the client's environment variables (`specinv --help`, else
    client/commands/context.cc) are all SPECINV_CLIENT_* and share no name
    with the server's, so a server's settings never configure a client run
    beside it (the image's HEALTHCHECK needs no `env -u` workaround).

usage: manifests_test.py --repo DIR [--server-bin PATH] [--client-bin PATH] [unittest args]
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import unittest

import yaml

ARGS = None
K8S_KINDS = {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}


def read(path):
    with open(path) as f:
        return f.read()


# ---- the server's flags --------------------------------------------------------------

class Flag:
    def __init__(self, name, env, type_=None, default=None):
        self.name, self.env, self.type, self.default = name, env, type_, default


def flags_from_help(server_bin):
    """--flag TYPE=default (Env:NAME) lines of `specinv-server --help`."""
    out = subprocess.run([server_bin, "--help"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    flags = {}
    pattern = re.compile(r"^\s+--([a-z0-9-]+)\s+([A-Z]+)(?:=(\S+))?\s+\(Env:(SPECINV_[A-Z0-9_]+)\)")
    for line in out.splitlines():
        m = pattern.match(line)
        if m:
            flags[m.group(4)] = Flag(m.group(1), m.group(4), m.group(2), m.group(3))
    return flags


def flags_from_source(repo):
    """add_option("--flag", ...)->envname("NAME") chains of server/main.cc;
    defaults of the ServerOptions fields they bind from server/server.h."""
    main = read(os.path.join(repo, "server", "main.cc"))
    header = read(os.path.join(repo, "server", "server.h"))
    defaults = dict(re.findall(r"\b(?:int|double|std::string)\s+(\w+)\s*=\s*\"?([^\";]+)\"?;", header))
    defaults.update(re.findall(r"\bdouble\s+(\w+)\s*=\s*([0-9.]+);", main))
    flags = {}
    for chunk in main.split("app.add_option(")[1:]:
        name = re.match(r'\s*"--([a-z0-9-]+)"\s*,\s*([\w.]+)', chunk)
        env = re.search(r'envname\("(SPECINV_[A-Z0-9_]+)"\)', chunk)
        if name and env:
            field = name.group(2).split(".")[-1]
            flags[env.group(1)] = Flag(name.group(1), env.group(1), None, defaults.get(field))
    return flags


def client_env_from_help(client_bin):
    """(Env:NAME) entries of `specinv --help` (the connection flags live there)."""
    out = subprocess.run([client_bin, "--help"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return set(re.findall(r"\(Env:(SPECINV_[A-Z0-9_]+)\)", out))


def client_env_from_source(repo):
    text = read(os.path.join(repo, "client", "commands", "context.cc"))
    return set(re.findall(r'envname\("(SPECINV_[A-Z0-9_]+)"\)', text))


def health_service_name(repo):
    text = read(os.path.join(repo, "server", "server.cc"))
    m = re.search(r'kServiceName\[\]\s*=\s*"([^"]+)"', text)
    return m.group(1) if m else None


# ---- helpers ----------------------------------------------------------------------------

def load_yaml_documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def dockerfile_instructions(path):
    """(INSTRUCTION, arguments) with line continuations joined, comments dropped."""
    lines, current = [], ""
    for raw in read(path).splitlines():
        line = raw
        if not current and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            word, _, rest = current.strip().partition(" ")
            lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def seconds(value):
    """'35s', '1m30s', 35 -> seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for ch in str(value):
        if ch.isdigit() or ch == ".":
            number += ch
        else:
            total += float(number) * units[ch]
            number = ""
    return total + (float(number) if number else 0.0)


def compose_health_command(test):
    """A compose healthcheck `test` as one command line: a string is run by
    /bin/sh (CMD-SHELL); a list is ["CMD", argv...] or ["CMD-SHELL", line]."""
    if isinstance(test, str):
        return test
    if test and test[0] in ("CMD", "CMD-SHELL"):
        return " ".join(test[1:])
    raise ValueError(f"healthcheck test {test!r} is neither a string nor a CMD / CMD-SHELL list")


def cpu_cores(quantity):
    q = str(quantity)
    return float(q[:-1]) / 1000.0 if q.endswith("m") else float(q)


class DeployTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        repo = ARGS.repo
        cls.repo = repo
        cls.deploy = os.path.join(repo, "deploy")
        cls.k8s_dir = os.path.join(cls.deploy, "k8s")
        cls.source_flags = flags_from_source(repo)
        cls.flags = flags_from_help(ARGS.server_bin) if ARGS.server_bin else cls.source_flags
        cls.health_service = health_service_name(repo)
        cls.docs = {}
        for name in sorted(os.listdir(cls.k8s_dir)):
            if name.endswith((".yaml", ".yml")):
                cls.docs[name] = load_yaml_documents(os.path.join(cls.k8s_dir, name))
        objects = [d for docs in cls.docs.values() for d in docs if d.get("kind") in K8S_KINDS]
        cls.by_kind = {}
        for o in objects:
            cls.by_kind.setdefault(o["kind"], []).append(o)
        cls.deployment = cls.by_kind["Deployment"][0]
        cls.pod = cls.deployment["spec"]["template"]
        cls.container = next(c for c in cls.pod["spec"]["containers"] if c["name"] == "specinv-server")
        cls.env = env_of(cls.container)
        cls.ports = {p["name"]: p["containerPort"] for p in cls.container["ports"]}
        cls.compose = load_yaml_documents(os.path.join(cls.deploy, "compose.yaml"))[0]
        cls.dockerfile = dockerfile_instructions(os.path.join(cls.deploy, "Dockerfile"))

    def default(self, env):
        flag = self.flags[env]
        self.assertIsNotNone(flag.default, f"no default known for {env}")
        return flag.default

    def setting(self, env, values):
        """The value the server will use: the explicit one or the flag's default."""
        return values[env] if env in values else self.default(env)

    def check_env(self, values, where):
        for name, value in values.items():
            if not name.startswith("SPECINV_"):
                continue
            self.assertTrue(name in self.flags, f"{where}: {name} is not a specinv-server flag's environment "
                          f"variable (known: {sorted(self.flags)})")
            self.assertIsInstance(value, str, f"{where}: {name} must be a string, got {value!r}")
            kind = self.flags[name].type
            if kind == "INT":
                self.assertRegex(value, r"^-?\d+$", f"{where}: {name}={value!r} is not an integer")
            elif kind == "FLOAT":
                try:
                    float(value)
                except ValueError:
                    self.fail(f"{where}: {name}={value!r} is not a number")

    # -- flags ---------------------------------------------------------------------------
    def test_flag_sources_agree(self):
        self.assertGreaterEqual(len(self.source_flags), 10, "could not read the flags from server/main.cc")
        self.assertIn("SPECINV_PORT", self.flags)
        self.assertIn("SPECINV_SHUTDOWN_GRACE_S", self.flags)
        if ARGS.server_bin:
            self.assertEqual(set(self.flags), set(self.source_flags),
                             "specinv-server --help and server/main.cc disagree (stale binary?)")

    # -- YAML ----------------------------------------------------------------------------
    def test_every_yaml_parses_and_names_its_objects(self):
        self.assertTrue(self.docs, "no manifests in deploy/k8s")
        for name, docs in self.docs.items():
            self.assertTrue(docs, f"{name} is empty")
            for d in docs:
                self.assertIn("apiVersion", d, name)
                self.assertIn("kind", d, name)
                if d["kind"] != "Kustomization":
                    self.assertTrue(d.get("metadata", {}).get("name"), f"{name}: {d['kind']} without a name")

    def test_kustomization_lists_every_manifest(self):
        kustomization = self.docs.get("kustomization.yaml")
        self.assertIsNotNone(kustomization, "deploy/k8s/kustomization.yaml is missing")
        listed = set(kustomization[0]["resources"])
        files = {n for n in self.docs if n != "kustomization.yaml"}
        self.assertEqual(listed, files)

    def test_expected_objects(self):
        self.assertEqual(self.deployment["apiVersion"], "apps/v1")
        self.assertEqual(len(self.by_kind.get("Service", [])), 2)
        self.assertEqual([h["apiVersion"] for h in self.by_kind["HorizontalPodAutoscaler"]], ["autoscaling/v2"])
        self.assertEqual([p["apiVersion"] for p in self.by_kind["PodDisruptionBudget"]], ["policy/v1"])
        self.assertEqual([p["apiVersion"] for p in self.by_kind.get("NetworkPolicy", [])], ["networking.k8s.io/v1"])

    # -- Deployment ----------------------------------------------------------------------
    def test_deployment_env_names_and_values(self):
        self.check_env(self.env, "Deployment")
        for required in ("SPECINV_PORT", "SPECINV_METRICS_PORT", "SPECINV_WORKERS", "SPECINV_SHUTDOWN_GRACE_S"):
            self.assertIn(required, self.env, f"Deployment does not set {required}")

    def test_container_ports_match_server_ports(self):
        self.assertEqual(self.ports.get("grpc"), int(self.setting("SPECINV_PORT", self.env)))
        self.assertEqual(self.ports.get("metrics"), int(self.setting("SPECINV_METRICS_PORT", self.env)))

    def test_probes_are_grpc_health_checks_on_the_grpc_port(self):
        grpc_port = int(self.setting("SPECINV_PORT", self.env))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe == "startupProbe" and probe not in self.container:
                continue
            self.assertIn(probe, self.container, f"no {probe}")
            spec = self.container[probe]
            self.assertIn("grpc", spec, f"{probe} must be a native gRPC probe")
            self.assertEqual(spec["grpc"]["port"], grpc_port, f"{probe} port")
            service = spec["grpc"].get("service", "")
            self.assertIn(service, ("", self.health_service),
                          f"{probe} checks service {service!r}; the server reports '' and {self.health_service!r}")

    def test_termination_grace_covers_the_drain(self):
        grace = float(self.setting("SPECINV_SHUTDOWN_GRACE_S", self.env))
        pre_stop = 0.0
        hook = self.container.get("lifecycle", {}).get("preStop", {})
        if "exec" in hook:
            command = hook["exec"]["command"]
            if command and command[0].endswith("sleep"):
                pre_stop = float(command[1])
        elif "sleep" in hook:
            pre_stop = float(hook["sleep"]["seconds"])
        termination = self.pod["spec"]["terminationGracePeriodSeconds"]
        self.assertGreaterEqual(termination, pre_stop + grace + 2,
                                f"terminationGracePeriodSeconds {termination} < preStop {pre_stop} + grace {grace} + margin")
        self.assertLessEqual(termination, pre_stop + grace + 30,
                             f"terminationGracePeriodSeconds {termination} is far beyond preStop + grace")
        live = self.container["livenessProbe"]
        window = live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
        self.assertGreater(window, grace, "a draining (NOT_SERVING) pod would be restarted by its liveness probe")

    def test_resources_and_workers(self):
        resources = self.container.get("resources", {})
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                self.assertIn(resource, resources.get(section, {}), f"resources.{section}.{resource} unset")
        workers = int(self.env["SPECINV_WORKERS"])
        self.assertGreaterEqual(workers, 1, "set SPECINV_WORKERS explicitly (0 counts the node's cores)")
        self.assertEqual(workers, cpu_cores(resources["requests"]["cpu"]),
                         "SPECINV_WORKERS should equal the CPU request")

    def test_runs_as_the_image_user(self):
        uid = None
        for word, rest in self.dockerfile:
            m = re.search(r"useradd\b.*--uid\s+(\d+).*\bspecinv\b", rest) if word == "RUN" else None
            if m:
                uid = int(m.group(1))
        self.assertIsNotNone(uid, "Dockerfile creates no specinv user with a fixed uid")
        gids = [int(m.group(1)) for word, rest in self.dockerfile if word == "RUN"
                for m in [re.search(r"groupadd\b.*--gid\s+(\d+)\s+specinv\b", rest)] if m]
        security = self.pod["spec"].get("securityContext", {})
        self.assertTrue(security.get("runAsNonRoot"))
        self.assertEqual(security.get("runAsUser"), uid)
        if "runAsGroup" in security:
            self.assertEqual([security["runAsGroup"]], gids, "runAsGroup must be the image group's gid")

    # -- Services, HPA, PDB --------------------------------------------------------------
    def selects_pods(self, selector):
        labels = self.pod["metadata"]["labels"]
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    def test_services(self):
        services = {s["metadata"]["name"]: s for s in self.by_kind["Service"]}
        headless = [s for s in services.values() if s["spec"].get("clusterIP") == "None"]
        cluster_ip = [s for s in services.values() if s["spec"].get("clusterIP") != "None"]
        self.assertEqual(len(headless), 1, "want one headless Service (client-side round_robin)")
        self.assertEqual(len(cluster_ip), 1, "want one ClusterIP Service (proxies)")
        deployment_selector = self.deployment["spec"]["selector"]["matchLabels"]
        self.assertTrue(self.selects_pods(deployment_selector), "Deployment selector does not match its pods")
        for name, s in services.items():
            self.assertTrue(self.selects_pods(s["spec"]["selector"]), f"Service {name} selects no pod")
            for port in s["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                if isinstance(target, str):
                    self.assertIn(target, self.ports, f"Service {name}: targetPort {target!r} is no container port")
            names = {p["name"]: p for p in s["spec"]["ports"]}
            self.assertIn("grpc", names, f"Service {name} has no grpc port")
            target = names["grpc"].get("targetPort")
            self.assertEqual(self.ports[target] if isinstance(target, str) else target, self.ports["grpc"])

    def test_hpa(self):
        hpa = self.by_kind["HorizontalPodAutoscaler"][0]["spec"]
        ref = hpa["scaleTargetRef"]
        self.assertEqual((ref["apiVersion"], ref["kind"], ref["name"]),
                         ("apps/v1", "Deployment", self.deployment["metadata"]["name"]))
        cpu = [m for m in hpa["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
        self.assertEqual(len(cpu), 1, "the HPA scales on CPU")
        self.assertEqual(cpu[0]["resource"]["target"]["type"], "Utilization")
        self.assertIn("cpu", self.container["resources"]["requests"], "CPU utilisation needs a CPU request")
        self.assertGreaterEqual(hpa["minReplicas"], 2)
        self.assertGreaterEqual(hpa["maxReplicas"], hpa["minReplicas"])

    def test_pdb(self):
        pdb = self.by_kind["PodDisruptionBudget"][0]["spec"]
        self.assertTrue(self.selects_pods(pdb["selector"]["matchLabels"]), "PDB selects no pod")
        self.assertTrue(("maxUnavailable" in pdb) != ("minAvailable" in pdb), "set one of maxUnavailable/minAvailable")
        min_replicas = self.by_kind["HorizontalPodAutoscaler"][0]["spec"]["minReplicas"]
        if "minAvailable" in pdb and isinstance(pdb["minAvailable"], int):
            self.assertLess(pdb["minAvailable"], min_replicas, "the PDB would block every voluntary eviction")

    def test_network_policy(self):
        policy = self.by_kind["NetworkPolicy"][0]["spec"]
        self.assertTrue(self.selects_pods(policy["podSelector"]["matchLabels"]), "NetworkPolicy selects no pod")
        self.assertEqual(set(policy.get("policyTypes", [])), {"Ingress", "Egress"},
                         "both directions must be restricted")
        pod_labels = self.pod["metadata"]["labels"]

        def port_number(port):
            value = port["port"]
            if isinstance(value, str):
                self.assertIn(value, self.ports, f"NetworkPolicy port {value!r} is no container port")
                return self.ports[value]
            return value

        grpc = int(self.setting("SPECINV_PORT", self.env))
        http = int(self.setting("SPECINV_HTTP_PORT", self.env))
        metrics = int(self.setting("SPECINV_METRICS_PORT", self.env))
        allowed = {}  # port -> list of peers
        for rule in policy.get("ingress", []):
            peers, ports = rule.get("from", []), rule.get("ports", [])
            self.assertTrue(peers, "an ingress rule without `from` admits every pod and address")
            self.assertTrue(ports, "an ingress rule without `ports` admits every port")
            for peer in peers:
                self.assertNotIn("ipBlock", peer, "clients are selected by label, not by address")
                self.assertTrue(peer.get("podSelector", {}).get("matchLabels") or
                                peer.get("namespaceSelector", {}).get("matchLabels"),
                                f"peer {peer} selects everything")
            for port in ports:
                self.assertEqual(port.get("protocol", "TCP"), "TCP")
                allowed.setdefault(port_number(port), []).extend(peers)
        self.assertEqual(set(allowed), {grpc, http, metrics}, "ingress must open exactly gRPC, HTTP and metrics")
        for port in (grpc, http):
            for peer in allowed[port]:
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                self.assertTrue(labels, f"port {port}: clients must be selected by a pod label")
                self.assertFalse(set(labels.items()) <= set(pod_labels.items()),
                                 f"port {port}: the client label {labels} is one the server pods carry")
        for peer in allowed[metrics]:
            self.assertEqual(peer.get("namespaceSelector", {}).get("matchLabels"),
                             {"kubernetes.io/metadata.name": "monitoring"},
                             "metrics must be reachable only from the monitoring namespace")
            self.assertNotIn("podSelector", peer)
        for rule in policy.get("egress", []):
            ports = rule.get("ports", [])
            self.assertTrue(ports and all(p["port"] == 53 for p in ports), f"egress beyond DNS: {rule}")

    # -- Dockerfile -------------------------------------------------------------------------
    def test_dockerfile(self):
        froms = [rest for word, rest in self.dockerfile if word == "FROM"]
        self.assertGreaterEqual(len(froms), 2, "multi-stage build expected")
        args = dict(re.findall(r"(\w+)=(\S+)", " ".join(rest for w, rest in self.dockerfile if w == "ARG")))
        resolve = lambda image: re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), image)
        self.assertEqual(resolve(froms[0].split()[0]), "debian:bookworm")
        self.assertEqual(resolve(froms[-1].split()[0]), "debian:bookworm-slim")
        env = {}
        for word, rest in self.dockerfile:
            if word == "ENV":
                env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
        self.check_env(env, "Dockerfile ENV")
        exposed = {int(p.split("/")[0]) for w, rest in self.dockerfile if w == "EXPOSE" for p in rest.split()}
        self.assertIn(int(self.setting("SPECINV_PORT", env)), exposed)
        self.assertIn(int(self.setting("SPECINV_METRICS_PORT", env)), exposed)
        users = [rest for w, rest in self.dockerfile if w == "USER"]
        self.assertTrue(users and users[-1].split(":")[0] not in ("root", "0"), "the image must not run as root")
        health = [rest for w, rest in self.dockerfile if w == "HEALTHCHECK"]
        self.assertEqual(len(health), 1)
        self.assertRegex(health[0], r"\bspecinv\b.*\bhealth\b")
        self.assertIn("${SPECINV_PORT", health[0], "the HEALTHCHECK must follow SPECINV_PORT")
        entry = [rest for w, rest in self.dockerfile if w == "ENTRYPOINT"]
        self.assertTrue(entry and "specinv-server" in entry[-1])

    # -- compose + nginx ------------------------------------------------------------------
    def test_compose(self):
        services = self.compose["services"]
        server = services["specinv"]
        env = server.get("environment", {})
        self.check_env(env, "compose.yaml")
        grace = float(self.setting("SPECINV_SHUTDOWN_GRACE_S", env))
        self.assertGreater(seconds(server["stop_grace_period"]), grace)
        self.assertGreaterEqual(server.get("deploy", {}).get("replicas", 1), 2)
        test = compose_health_command(server["healthcheck"]["test"])
        self.assertIn("health", test)
        self.assertIn(f"127.0.0.1:{self.setting('SPECINV_PORT', env)}", test)
        lb = [s for name, s in services.items() if name != "specinv"]
        self.assertEqual(len(lb), 1, "one load balancer service")
        self.assertEqual(lb[0]["depends_on"]["specinv"]["condition"], "service_healthy")

        conf = read(os.path.join(self.deploy, "nginx", "nginx.conf"))
        conf = re.sub(r"#.*", "", conf)
        self.assertRegex(conf, r"listen\s+\d+\s+http2;")
        self.assertIn("grpc_pass grpc://", conf)
        upstream = re.findall(r"server\s+specinv:(\d+)", conf)
        self.assertEqual(upstream, [str(self.setting("SPECINV_PORT", env))], "nginx upstream port")
        body = re.search(r"client_max_body_size\s+(\d+)m;", conf)
        self.assertIsNotNone(body)
        self.assertGreaterEqual(float(body.group(1)), float(self.setting("SPECINV_MAX_MESSAGE_MB", env)))

    # -- client environment ---------------------------------------------------------------
    def test_client_env_names_are_the_clients_own(self):
        names = {"client/commands/context.cc": client_env_from_source(self.repo)}
        if ARGS.client_bin:
            names["specinv --help"] = client_env_from_help(ARGS.client_bin)
        for where, env in names.items():
            self.assertGreaterEqual(len(env), 5, f"could not read the client's environment names from {where}")
            for name in sorted(env):
                self.assertTrue(name.startswith("SPECINV_CLIENT_"), f"{where}: client variable {name} lacks "
                                "the SPECINV_CLIENT_ prefix")
            clash = env & (set(self.flags) | set(self.source_flags))
            self.assertFalse(clash, f"{where}: client and server read the same variables {sorted(clash)}")
        if ARGS.client_bin:
            self.assertEqual(names["specinv --help"], names["client/commands/context.cc"],
                             "specinv --help and client/commands/context.cc disagree (stale binary?)")
        for w, rest in self.dockerfile:
            if w == "HEALTHCHECK":
                self.assertNotIn("env -u", rest, "the HEALTHCHECK should need no environment workaround")

    # -- client flags used by health checks ----------------------------------------------
    def test_health_check_client_flags_exist(self):
        if not ARGS.client_bin:
            self.skipTest("no --client-bin")
        top = subprocess.run([ARGS.client_bin, "--help"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
        health = subprocess.run([ARGS.client_bin, "health", "--help"], check=True, capture_output=True,
                                text=True, timeout=60).stdout
        known = set(re.findall(r"(--[a-z][a-z0-9-]*)", top + health))
        commands = [compose_health_command(self.compose["services"]["specinv"]["healthcheck"]["test"])]
        commands += [rest for w, rest in self.dockerfile if w == "HEALTHCHECK"]
        for command in commands:
            words = shlex.split(command.replace('\\"', '"').replace(",", " ").replace("[", " ").replace("]", " "))
            for word in words:
                if word.startswith("--") and not word.startswith(("--interval", "--timeout", "--start-period",
                                                                  "--retries")):
                    self.assertIn(word.split("=")[0], known, f"health check uses unknown client flag {word}")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--server-bin")
    parser.add_argument("--client-bin")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
