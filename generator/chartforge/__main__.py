from chartforge.cli import main

main()
