"""The checker on crafted histories: each check must fire on the history built to break it, and
stay quiet on its correct twin. This is what proves a run's PASS means something."""
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import checker  # noqa: E402


class H:
    """Builds a history: each call appends an invoke and its completion."""

    def __init__(self):
        self.events, self.t, self.op = [], 0, 0

    def _op(self, process, f, key, done, **kw):
        self.t += 10
        self.op += 1
        inv = {"type": "invoke", "process": process, "op": self.op, "f": f, "key": key,
               "node": "n1", "t_us": self.t}
        if "value" in kw:
            inv["value"] = kw["value"]
        if "seen" in kw:
            inv["seen"] = kw["seen"]
        self.events.append(inv)
        self.t += 10
        end = {"type": done, "process": process, "op": self.op, "f": f, "key": key,
               "node": "n1", "t_us": self.t}
        if "values" in kw:
            end["values"] = kw["values"]
        if "fallback_acks" in kw:
            end["fallback_acks"] = kw["fallback_acks"]
        if done != "ok":
            end["error"] = kw.get("error", "Timeout")
        self.events.append(end)
        return self

    def put(self, key, value, seen=(), done="ok", process=0, **kw):
        return self._op(process, "put", key, done, value=value, seen=list(seen), **kw)

    def dele(self, key, seen, done="ok", process=0):
        return self._op(process, "del", key, done, seen=list(seen))

    def get(self, key, values, process=0, done="ok"):
        return self._op(process, "get", key, done, values=list(values))

    def final(self, key, values):
        self.t += 10
        self.events.append({"type": "ok", "process": "final", "f": "get", "key": key,
                            "values": list(values), "t_us": self.t})
        return self


def run(h, r=2, w=2, n=3):
    return checker.check(h.events, r, w, n)


class CheckerTest(unittest.TestCase):
    def test_clean_history_is_valid(self):
        h = H().put("r:0", "a").get("r:0", ["a"]).put("r:0", "b", seen=["a"]).get("r:0", ["b"])
        h.final("r:0", ["b"])
        res = run(h)
        self.assertTrue(res["valid"], res["violations"])
        self.assertEqual(res["lost_writes"], 0)
        self.assertEqual(res["stale_reads"], 0)

    def test_lost_acknowledged_write(self):
        h = H().put("u:0:0", "u0.0").put("u:0:1", "u0.1").final("u:0:0", ["u0.0"]).final(
            "u:0:1", [])
        res = run(h)
        self.assertFalse(res["valid"])
        self.assertEqual(res["lost_writes"], 1)
        self.assertIn("u0.1", res["violations"][0])

    def test_in_doubt_write_may_vanish(self):
        h = H().put("u:0:0", "u0.0", done="info").final("u:0:0", [])
        self.assertTrue(run(h)["valid"])

    def test_superseded_write_is_not_lost(self):
        h = H().put("r:0", "a").put("r:0", "b", seen=["a"], done="info").final("r:0", ["b"])
        self.assertTrue(run(h)["valid"])

    def test_phantom_and_failed_values(self):
        h = H().put("r:0", "a", done="fail", error="Unavailable").get("r:0", ["a"])
        h.get("r:0", ["zzz"])
        res = run(h)
        self.assertEqual(sum(v.startswith("phantom") for v in res["violations"]), 2)

    def test_stale_read_fails_strict_and_counts_otherwise(self):
        h = H().put("r:0", "a").put("r:0", "b", seen=["a"], process=1).get("r:0", ["a"])
        h.final("r:0", ["b"])
        strict = run(h, 2, 2, 3)
        self.assertFalse(strict["valid"])
        self.assertEqual(strict["stale_reads"], 1)
        loose = run(h, 1, 1, 3)
        self.assertTrue(loose["valid"], loose["violations"])
        # The read began 10 us after b's acknowledgement and did not return it.
        first = loose["t_visibility"][0]
        self.assertEqual((first["from_ms"], first["reads"], first["returned"]), (0, 1, 0))
        self.assertEqual(loose["stale_reads"], 1)
        self.assertEqual(loose["stale_versions_max"], 1)

    def test_sloppy_quorum_promises_by_what_replicas_acknowledged(self):
        # R2 W2, b acknowledged by one replica and one stand-in: W - F = 1, and 2 + 1 <= 3, so
        # the read may miss it (counted). Acknowledged by replicas alone, it may not (violation).
        h = H().put("r:0", "a").put("r:0", "b", seen=["a"], process=1, fallback_acks=1)
        h.get("r:0", ["a"]).final("r:0", ["b"])
        res = checker.check(h.events, 2, 2, 3, sloppy=True)
        self.assertTrue(res["valid"], res["violations"])
        self.assertEqual(res["stale_reads"], 1)
        self.assertFalse(res["strict_quorum_overlap"])
        h = H().put("r:0", "a").put("r:0", "b", seen=["a"], process=1, fallback_acks=0)
        h.get("r:0", ["a"]).final("r:0", ["b"])
        res = checker.check(h.events, 2, 2, 3, sloppy=True)
        self.assertFalse(res["valid"])

    def test_read_your_writes(self):
        h = H().put("q:0", "q0.1").put("q:0", "q0.2", seen=["q0.1"]).get("q:0", ["q0.1"])
        h.final("q:0", ["q0.2"])
        res = run(h, 1, 1, 3)
        self.assertEqual(res["read_your_writes_violations"], 1)

    def test_monotonic_reads_counted(self):
        h = H().put("q:0", "q0.1").put("q:0", "q0.2", seen=["q0.1"], done="info")
        h.get("q:0", ["q0.2"]).get("q:0", ["q0.1"]).final("q:0", ["q0.2"])
        self.assertEqual(run(h)["monotonic_read_violations"], 1)

    def test_false_sibling(self):
        h = H().put("r:0", "a").put("r:0", "b", seen=["a"]).get("r:0", ["a", "b"])
        h.final("r:0", ["b"])
        res = run(h, 1, 1, 3)
        self.assertTrue(any(v.startswith("false sibling") for v in res["violations"]))

    def test_true_siblings_are_fine(self):
        h = H().put("s:0", "x").put("s:0", "y").get("s:0", ["x", "y"]).final("s:0", ["x", "y"])
        self.assertTrue(run(h)["valid"])

    def test_deleted_value_comes_back(self):
        h = H().put("d:0:0", "d0.0").dele("d:0:0", ["d0.0"]).get("d:0:0", [])
        h.final("d:0:0", ["d0.0"])
        res = run(h)
        self.assertTrue(any(v.startswith("resurrected") for v in res["violations"]))
        good = H().put("d:0:0", "d0.0").dele("d:0:0", ["d0.0"]).final("d:0:0", [])
        self.assertTrue(run(good)["valid"])

    def test_unanswered_final_read_fails(self):
        h = H().put("u:0:0", "v")
        h.t += 10
        h.events.append({"type": "fail", "process": "final", "f": "get", "key": "u:0:0",
                         "error": "Unavailable", "t_us": h.t})
        res = run(h)
        self.assertFalse(res["valid"])
        self.assertIn("unjudged", res["violations"][0])

    def test_minority_refuses(self):
        h = H().put("r:0", "a")
        faults = [{"start_us": 0, "end_us": 10**6, "label": "isolate n1", "cut_off": ["n1"]}]
        res = checker.check(h.events, 2, 2, 3, faults)
        found = checker.check_minority_refuses(res)
        self.assertTrue(any("acknowledged 1" in v for v in found), found)
        self.assertTrue(any("never answered UNAVAILABLE" in v for v in found), found)
        self.assertTrue(any("the rest was available" in v for v in found), found)
        good = H().put("r:0", "a", done="fail", error="Unavailable")
        good.events += [dict(e, node="n2", op=e["op"] + 100) for e in H().put("r:0", "b").events]
        res = checker.check(good.events, 2, 2, 3, faults)
        self.assertEqual(checker.check_minority_refuses(res), [])

    def test_cross_side_siblings(self):
        h = H().put("s:0", "x").put("s:0", "y")
        h.events[2]["node"] = h.events[3]["node"] = "n2"
        h.final("s:0", ["x", "y"])
        fault = {"start_us": 0, "end_us": 10**6, "label": "halves", "cut_off": ["n1"]}
        res = checker.check(h.events, 1, 1, 3, [fault])
        self.assertEqual(res["per_fault"][0]["cross_side_siblings"], 1)
        fault["cut_off"] = ["n3"]
        res = checker.check(h.events, 1, 1, 3, [fault])
        self.assertEqual(res["per_fault"][0]["cross_side_siblings"], 0)

    def test_availability_per_side(self):
        # n1 cut off: one ok, one refused, one in doubt; n2: one ok; one op after the fault and a
        # final read, neither counted.
        h = H().put("r:0", "a").put("r:0", "b", done="fail", error="Unavailable")
        h.put("r:0", "c", done="info").put("r:1", "d")
        h.events[6]["node"] = h.events[7]["node"] = "n2"
        fault = {"start_us": 0, "end_us": h.t, "label": "halves", "cut_off": ["n1"]}
        h.put("r:2", "e").final("r:0", ["a"])
        f = checker.fault_figures(h.events, [fault])[0]
        self.assertEqual(f["outcomes_cut_off"], {"ok": 1, "fail": 1, "info": 1})
        self.assertEqual(f["outcomes_rest"], {"ok": 1, "fail": 0, "info": 0})
        self.assertEqual(checker.side_text(f), "clients of n1 33.3% ok of 3 (fail 1, info 1); "
                                               "others 100.0% ok of 1 (fail 0, info 0)")
        no_cut = dict(f, cut_off=[], outcomes_rest={"ok": 0, "fail": 9, "info": 0})
        pooled = checker.pool_sides([f, f, no_cut])  # a fault cutting nothing off: not counted
        self.assertEqual(pooled["cut_off"], {"ok": 2, "fail": 2, "info": 2, "ops": 6,
                                             "availability": 2 / 6})
        self.assertEqual(pooled["rest"]["availability"], 1.0)
        self.assertIsNone(checker.pool_sides([])["rest"]["availability"])

    def test_unfinished_op_is_in_doubt(self):
        h = H().put("u:0:0", "v")
        h.events.pop()  # the workload was stopped before the answer
        h.final("u:0:0", [])
        self.assertTrue(run(h)["valid"])


class ReplicaComparisonTest(unittest.TestCase):
    """The check after --converge-by: replicas that agree pass, and each way of differing is
    reported."""

    @staticmethod
    def merkle(roots, replicas=("n1", "n2", "n3")):
        return {"ranges": [{"start": 0, "end": 10, "replicas": list(replicas),
                            "roots": list(roots)}]}

    def test_merkle_roots(self):
        same = "00000000000000ab"
        self.assertEqual(checker.merkle_differences({"n1": self.merkle([same] * 3)}), [])
        differ = checker.merkle_differences({"n1": self.merkle([same, same,
                                                                "00000000000000cd"])})
        self.assertEqual(differ, ["merkle roots differ: as n1 sees (0, 10]: n1=00000000000000ab "
                                  "n2=00000000000000ab n3=00000000000000cd"])
        unanswered = self.merkle([same, same, "Unavailable: n3 is down"])
        self.assertEqual(len(checker.merkle_differences({"n2": unanswered})), 1)

    def test_replica_copies(self):
        def obj(key, siblings=1, tombstones=0):
            return {"key": key, "siblings": siblings, "tombstones": tombstones}
        agreed = {n: [obj("u:0:0"), obj("d:0:0", 0, 1)] for n in ("n1", "n2", "n3")}
        self.assertEqual(checker.replica_differences(agreed, 3), [])
        missing = dict(agreed, n3=[obj("d:0:0", 0, 1)])
        self.assertEqual(checker.replica_differences(missing, 3),
                         ["replicas differ: u:0:0 held by 2 of 3 replicas: n1 1 siblings 0 "
                          "tombstones, n2 1 siblings 0 tombstones"])
        siblings = dict(agreed, n2=[obj("u:0:0", 2), obj("d:0:0", 0, 1)])
        self.assertEqual(len(checker.replica_differences(siblings, 3)), 1)
        # RF 2 on three nodes: each key on two of them.
        two = {"n1": [obj("a")], "n2": [obj("a"), obj("b")], "n3": [obj("b")]}
        self.assertEqual(checker.replica_differences(two, 2), [])


if __name__ == "__main__":
    unittest.main()
