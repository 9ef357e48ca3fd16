{#-
    The A/B/C settings from the vars abc_window_days, abc_share_a, abc_share_b and abc_include_contracts
    (chainseg.yml `marts:`), checked: window >= 1 day, 0 < shares, share_a + share_b < 1. Shares are returned
    as text, to be cast to an exact decimal in SQL (never added as floats: 0.1 + 0.2 is not 0.3 in binary).
-#}
{% macro segments_abc_settings() -%}
    {%- set window_days = var('abc_window_days', 365) | int -%}
    {%- set share_a = var('abc_share_a', 0.10) -%}
    {%- set share_b = var('abc_share_b', 0.20) -%}
    {%- set include = var('abc_include_contracts', false) -%}
    {%- if include is string -%}
        {%- set include = (include | lower) in ('true', '1', 'yes') -%}
    {%- endif -%}
    {%- if window_days < 1 -%}
        {{- exceptions.raise_compiler_error('var abc_window_days must be at least 1, got ' ~ window_days) -}}
    {%- endif -%}
    {%- if (share_a | float) <= 0 or (share_b | float) <= 0 or (share_a | float) + (share_b | float) >= 1 -%}
        {{- exceptions.raise_compiler_error(
            'vars abc_share_a and abc_share_b must be above 0 and add up to less than 1, got '
            ~ share_a ~ ' and ' ~ share_b
        ) -}}
    {%- endif -%}
    {{- return({
        'window_days': window_days,
        'share_a': share_a | string,
        'share_b': share_b | string,
        'include_contracts': include,
    }) -}}
{%- endmacro %}
