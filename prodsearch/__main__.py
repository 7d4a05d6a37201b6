from prodsearch.cli import main

raise SystemExit(main())
