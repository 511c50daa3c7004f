def is_loaded() -> bool:
    return False


def sign_in_help() -> str:
    return ""
