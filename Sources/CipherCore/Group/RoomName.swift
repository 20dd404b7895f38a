/// A room's name (PROTOCOL.md 13.1): `#` and then 1 to 32 of `a`-`z`, `0`-`9`, `_`, `.`, `-`,
/// the username alphabet, so that two rooms cannot be told apart only by case or look-alikes.
/// The whole name, `#` included, is the room string of group messages and distributions.
public enum RoomName {
    public static let prefix: Character = "#"

    public static func isValid(_ name: String) -> Bool {
        guard name.first == prefix else { return false }
        return Username.isValid(String(name.dropFirst()))
    }
}
