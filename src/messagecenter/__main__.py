from messagecenter.cli import main

main()
