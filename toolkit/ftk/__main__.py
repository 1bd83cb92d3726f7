from ftk.cli import main

main()
