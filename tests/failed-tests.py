#!/usr/bin/env python3
"""Prints every failed test of the .trx files in a folder, with its message and the last lines of its output,
so the end of a long test log says what failed and why. Bounded: at most 80 lines of output per test."""
import glob
import os
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
MAX_LINES = 80


def text(node, path):
    found = node.find(path, NS)
    return found.text if found is not None and found.text else ""


def main(folder):
    failed = 0
    for trx in sorted(glob.glob(os.path.join(folder, "*.trx"))):
        root = ET.parse(trx).getroot()
        for result in root.iterfind(".//t:UnitTestResult", NS):
            if result.get("outcome") != "Failed":
                continue
            failed += 1
            print(f"=== FAILED {result.get('testName')} ({result.get('duration')})")
            output = result.find("t:Output", NS)
            if output is None:
                continue
            lines = (text(output, "t:ErrorInfo/t:Message") + "\n" + text(output, "t:ErrorInfo/t:StackTrace")).splitlines()
            for line in lines[:MAX_LINES // 2]:
                print("    " + line)
            stdout = text(output, "t:StdOut").splitlines()
            if stdout:
                print(f"    --- last {min(len(stdout), MAX_LINES // 2)} of {len(stdout)} lines of its output")
                for line in stdout[-(MAX_LINES // 2):]:
                    print("    " + line[:400])
    print(f"=== {failed} failed test(s) in {folder}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "TestResults")
