# claude-tui's shell integration for zsh: the user's own .zshrc, then the OSC 133 marks modern terminals
# read (A prompt, B command line, C output with the command percent-encoded, D;STATUS end of command).
ZDOTDIR=${CLAUDE_TUI_USER_ZDOTDIR:-$HOME}
unset CLAUDE_TUI_USER_ZDOTDIR __claude_tui_zdotdir
[[ -f $ZDOTDIR/.zshrc ]] && source $ZDOTDIR/.zshrc

__claude_tui_urlencode() {
    local LC_ALL=C s=$1 out= c i
    for (( i = 1; i <= ${#s}; i++ )); do
        c=$s[i]
        case $c in
            [a-zA-Z0-9.~_/-]) out+=$c ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    print -rn -- $out
}
__claude_tui_preexec() {
    __claude_tui_ran=1
    printf '\033]133;C;cmdline_url=%s\007' "$(__claude_tui_urlencode "$1")"
}
__claude_tui_precmd() {
    local st=$?
    [[ -n $__claude_tui_ran ]] && printf '\033]133;D;%s\007' $st
    __claude_tui_ran=
    printf '\033]133;A\007'
}
autoload -Uz add-zsh-hook
add-zsh-hook preexec __claude_tui_preexec
add-zsh-hook precmd __claude_tui_precmd
PS1="$PS1%{"$'\033]133;B\007'"%}"
