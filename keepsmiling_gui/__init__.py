"""PySide6 front end of KeepSmiling. Widgets display and emit signals; keepsmiling_core does the work."""
