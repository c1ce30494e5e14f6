"""Schedules and partition shapes, without a network: a seed gives one schedule, every kind comes
before any repeats, faults stay inside the run, and each shape cuts what its name says."""
import os
import random
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import nemesis, net  # noqa: E402

NODES = ["n1", "n2", "n3", "n4", "n5"]


def reachable(nodes, drops, a, b):
    return (a, b) not in drops and (b, a) not in drops


class ScheduleTest(unittest.TestCase):
    def test_seed_gives_one_schedule(self):
        a = [f.to_json() | {"t": f.target} for f in nemesis.schedule(5, NODES, 60, ["all"])]
        b = [f.to_json() | {"t": f.target} for f in nemesis.schedule(5, NODES, 60, ["all"])]
        c = [f.to_json() | {"t": f.target} for f in nemesis.schedule(6, NODES, 60, ["all"])]
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_every_kind_before_a_repeat_and_inside_the_run(self):
        faults = nemesis.schedule(1, NODES, 100, ["all"])
        kinds = nemesis.expand(["all"])
        first = [f.kind for f in faults[:len(kinds)]]
        self.assertEqual(sorted(first), sorted(kinds))
        for f, g in zip(faults, faults[1:]):
            self.assertLess(f.end_s, g.start_s)
        self.assertGreaterEqual(faults[0].start_s, 1.0)
        self.assertLessEqual(faults[-1].end_s, 99.0)

    def test_majorities_ring_left_out_below_five_nodes(self):
        faults = nemesis.schedule(1, NODES[:3], 100, ["partition"])
        self.assertNotIn("partition:majorities-ring", {f.kind for f in faults})

    def test_unknown_kind_is_refused(self):
        with self.assertRaises(ValueError):
            nemesis.expand(["partition:everything"])


class ShapeTest(unittest.TestCase):
    def test_isolate_and_halves(self):
        label, drops = net.make("isolate", NODES, random.Random(1))
        x = label.split()[-1]
        for a in NODES:
            for b in NODES:
                if a != b:
                    self.assertEqual(reachable(NODES, drops, a, b), x not in (a, b))
        label, drops = net.make("halves", NODES, random.Random(2))
        minority = label.split()[1].split("+")
        self.assertEqual(len(minority), 2)
        for a in minority:
            self.assertEqual(sum(reachable(NODES, drops, a, b) for b in NODES if b != a), 1)

    def test_majorities_ring_each_node_sees_a_different_majority(self):
        _, drops = net.make("majorities-ring", NODES, random.Random(3))
        views = set()
        for a in NODES:
            view = frozenset([a] + [b for b in NODES if b != a and reachable(NODES, drops, a, b)])
            self.assertEqual(len(view), 3)
            views.add(view)
        self.assertEqual(len(views), 5)

    def test_bridge(self):
        label, drops = net.make("bridge", NODES, random.Random(4))
        bridge = label.split("<")[1].split(">")[0]
        for b in NODES:
            if b != bridge:
                self.assertTrue(reachable(NODES, drops, bridge, b))
        self.assertEqual(len(drops), 8)  # 2 x 2 nodes, both ways

    def test_one_way(self):
        label, drops = net.make("one-way", NODES, random.Random(5))
        x = label.split()[1]
        self.assertEqual(drops, {(x, b) for b in NODES if b != x})


if __name__ == "__main__":
    unittest.main()
