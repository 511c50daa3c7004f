"""The demo marketplace that `make run` loads (story.py) and its `messagecenter demo`
command. Nothing in production imports this package: the sign-in page learns about the demo
accounts through accounts.sign_in_hints, which apps.py fills when the app is installed."""
