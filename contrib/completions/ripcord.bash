# bash completion for ripcord; source it, or install it as
# /usr/share/bash-completion/completions/ripcord
_ripcord_releases()
{
	ripcord --json releases 2>/dev/null |
		python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)))' 2>/dev/null
}

_ripcord()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-C|-c) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	-C) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-c|-o|--key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--id|--steps|--bake|--reason) return ;;
	--to) COMPREPLY=($(compgen -W "$(_ripcord_releases)" -- "$cur")); return ;;
	esac
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "init keygen cut verify releases migrate
			deploy rollout rollback status drill report log gc
			-C -c --json -q -v --version --help" -- "$cur"))
		return
	fi
	case $cmd in
	init) COMPREPLY=($(compgen -W "--store --json" -- "$cur")) ;;
	keygen) COMPREPLY=($(compgen -W "-o --json" -- "$cur")) ;;
	cut) COMPREPLY=($(compgen -W "--id --tag --json $(git tag 2>/dev/null)" -- "$cur")) ;;
	verify)
		COMPREPLY=($(compgen -W "--key --json $(_ripcord_releases)" -- "$cur"))
		COMPREPLY+=($(compgen -f -X '!*.tar.zst' -- "$cur")) ;;
	status) COMPREPLY=($(compgen -W "--json" -- "$cur")) ;;
	releases)
		local sub=""
		for ((i++; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--reason) ((i++)) ;;
			-*) ;;
			*) sub=${COMP_WORDS[i]}; break ;;
			esac
		done
		case $sub in
		"") COMPREPLY=($(compgen -W "yank unyank rm --json" -- "$cur")) ;;
		yank) COMPREPLY=($(compgen -W "--reason --json $(_ripcord_releases)" -- "$cur")) ;;
		rm) COMPREPLY=($(compgen -W "--dry-run --json $(_ripcord_releases)" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "--json $(_ripcord_releases)" -- "$cur")) ;;
		esac ;;
	deploy) COMPREPLY=($(compgen -W "--target --dry-run --json $(_ripcord_releases)" -- "$cur")) ;;
	rollout)
		local sub=""
		for ((i++; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			--steps|--bake) ((i++)) ;;
			-*) ;;
			*) sub=${COMP_WORDS[i]}; break ;;
			esac
		done
		case $sub in
		"") COMPREPLY=($(compgen -W "start status promote abort resume --json" -- "$cur")) ;;
		start) COMPREPLY=($(compgen -W "--steps --bake --manual --json $(_ripcord_releases)" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "--json" -- "$cur")) ;;
		esac ;;
	rollback) COMPREPLY=($(compgen -W "--to --dry-run --no-migrate --json" -- "$cur")) ;;
	drill) COMPREPLY=($(compgen -W "--due --all --json $(_ripcord_releases)" -- "$cur")) ;;
	report) COMPREPLY=($(compgen -W "-o --days --json" -- "$cur")) ;;
	log) COMPREPLY=($(compgen -W "-n --json --verify" -- "$cur")) ;;
	gc) COMPREPLY=($(compgen -W "--dry-run --json" -- "$cur")) ;;
	migrate)
		if [ "$prev" = migrate ]; then
			COMPREPLY=($(compgen -W "status up down lint ack mark" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--to --dry-run --schema --json
				applied not-applied $(_ripcord_releases)" -- "$cur"))
		fi ;;
	esac
}
complete -F _ripcord ripcord
