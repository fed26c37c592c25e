# claude-tui's shell integration for zsh (ZDOTDIR points here): the user's own .zshenv first, untouched.
__claude_tui_zdotdir=$ZDOTDIR
ZDOTDIR=${CLAUDE_TUI_USER_ZDOTDIR:-$HOME}
[[ -f $ZDOTDIR/.zshenv ]] && source $ZDOTDIR/.zshenv
CLAUDE_TUI_USER_ZDOTDIR=$ZDOTDIR
ZDOTDIR=$__claude_tui_zdotdir
