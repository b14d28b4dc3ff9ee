from server_addon.db.migrate import run_env

run_env()
