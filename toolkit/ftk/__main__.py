from ftk.cli import entry

entry()
