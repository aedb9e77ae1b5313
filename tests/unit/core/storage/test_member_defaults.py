from bot.core.storage import MemberDefaults, Storage


async def test_a_member_without_defaults_has_none_set(storage: Storage) -> None:
    assert await storage.load_defaults(7) == MemberDefaults(7)


async def test_defaults_are_kept_and_replaced_whole_for_each_member(storage: Storage) -> None:
    mine = MemberDefaults(7, model="flash", size="1792x1024", quality="2k", style="ink", private=True)
    await storage.save_defaults(mine)
    await storage.save_defaults(MemberDefaults(8, private=False))

    assert await storage.load_defaults(7) == mine
    assert await storage.load_defaults(8) == MemberDefaults(8, private=False)

    await storage.save_defaults(MemberDefaults(7, quality="4k"))
    assert await storage.load_defaults(7) == MemberDefaults(7, quality="4k")
