"""The argon2id adapter: a decoy verify for an unknown account costs what a real verify costs."""

from __future__ import annotations

from argon2 import extract_parameters

from messenger.auth.adapters.passwords import Argon2Passwords


def test_default_decoy_is_the_shipped_hash_with_the_default_parameters() -> None:
    passwords = Argon2Passwords()
    decoy = passwords._decoy_hash
    real = extract_parameters(passwords.hash("a real password"))

    assert decoy.startswith("$argon2id$")
    assert extract_parameters(decoy) == real
    assert not passwords.needs_rehash(decoy)


def test_other_parameters_get_a_decoy_made_with_them() -> None:
    passwords = Argon2Passwords(time_cost=1, memory_cost_kib=8 * 1024)
    decoy = passwords._decoy_hash

    assert extract_parameters(decoy) == extract_parameters(passwords.hash("x"))
    assert not passwords.needs_rehash(decoy)


def test_the_decoy_accepts_no_password_a_client_sends() -> None:
    passwords = Argon2Passwords()
    for guess in ("", "password", "correct horse battery"):
        assert not passwords.verify(passwords._decoy_hash, guess)
