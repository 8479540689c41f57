from pager.cli import main

main()
