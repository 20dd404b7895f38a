import Foundation

/// What each key does in the full-screen interface: the few that act on the chat (quit,
/// scroll) are taken here, the rest edit the input line, and a submitted line goes to the model.
enum KeyBindings {
    static func apply(
        _ key: Key, model: inout ChatModel, editor: inout LineEditor, paneHeight: Int, now: Date
    ) -> [ChatModel.Effect] {
        let page = max(1, paneHeight - 1)  // one row of overlap keeps the reader's place
        switch key {
        case .interrupt:
            return model.quit(now: now)
        case .endOfInput where editor.isEmpty:
            return model.quit(now: now)
        case .pageUp:
            model.scroll(by: page)
            return []
        case .pageDown:
            model.scroll(by: -page)
            return []
        case .window(let number):
            return model.goTo(.number(number), now: now)
        default:
            guard let line = editor.apply(key) else { return [] }
            return model.submit(line, now: now)
        }
    }
}
