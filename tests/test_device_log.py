"""The device log's handler writes INFO lines in blocks inside ``held_lines()`` and flushes at a WARNING, at the
block's end and at close; every line keeps its content and order."""
import logging

from cases.device_log import DeviceLogHandler, held_lines


def test_lines_held_in_a_block_are_flushed_at_a_warning_and_at_its_end(tmp_path):
    path = tmp_path / "device.log"
    handler = DeviceLogHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("test-device-log")
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        log.info("before")
        assert path.read_text() == "INFO before\n"  # outside a block: written through at once
        with held_lines():
            log.info("run 1")
            log.info("run 2")
            assert path.read_text() == "INFO before\n"  # held in the file object's buffer
            log.warning("bad photo")
            assert path.read_text() == "INFO before\nINFO run 1\nINFO run 2\nWARNING bad photo\n"
            log.info("run 3")
            assert "run 3" not in path.read_text()
        assert path.read_text().endswith("WARNING bad photo\nINFO run 3\n")  # the block's end flushed it
        with held_lines():
            log.info("run 4")
            handler.close()  # a device's end closes its log: nothing held is lost
            assert path.read_text().endswith("INFO run 3\nINFO run 4\n")
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()
