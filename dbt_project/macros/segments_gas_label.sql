{#-
    The gas-sensitivity label's cut-offs, from vars with these defaults (override with --vars or, through
    `chainseg build`, nowhere else yet: they are not in chainseg.yml):

    - gas_sensitive_max_tip_gwei (0.2) and gas_sensitive_max_base_fee_percentile (0.4): 'sensitive' when the
      wallet's median tip is at most 0.2 gwei AND its median base-fee percentile (within the UTC day) is at
      most 0.4: it tips almost nothing and waits for the cheaper part of the day.
    - gas_insensitive_min_tip_gwei (8.0): 'insensitive' when its median tip is at least 8 gwei: it pays for
      priority whatever the base fee.
    - otherwise 'moderate'. The two labels cannot overlap (0.2 < 8).

    Chosen on the demo chain (seed 42, 90 days to 2025-06-30), see _marts__models.yml: bargain hunters tip
    0.01-0.1 gwei and transact below the scenario's 30th base-fee percentile; every other persona's median
    tip is above 0.3 gwei; snipers tip 8-40 gwei while the next highest persona (sybils) tips 2-6 gwei.
-#}
{% macro segments_gas_cutoffs() -%}
    {%- set cutoffs = {
        'sensitive_max_tip_gwei': var('gas_sensitive_max_tip_gwei', 0.2),
        'sensitive_max_base_fee_percentile': var('gas_sensitive_max_base_fee_percentile', 0.4),
        'insensitive_min_tip_gwei': var('gas_insensitive_min_tip_gwei', 8.0),
    } -%}
    {%- for name, value in cutoffs.items() -%}
        {%- if value is not number or value is sameas true or value is sameas false or value < 0 -%}
            {{- exceptions.raise_compiler_error('var gas_' ~ name ~ ' must be a number >= 0, got ' ~ value) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- if cutoffs['sensitive_max_tip_gwei'] >= cutoffs['insensitive_min_tip_gwei'] -%}
        {{- exceptions.raise_compiler_error(
            'var gas_sensitive_max_tip_gwei must stay below gas_insensitive_min_tip_gwei'
        ) -}}
    {%- endif -%}
    {{- return(cutoffs) -}}
{%- endmacro %}


{#- The label of a wallet from its median tip (gwei) and median base-fee percentile; NULL without either. -#}
{% macro segments_gas_label(median_tip_gwei, median_base_fee_percentile) -%}
    {%- set cutoffs = segments_gas_cutoffs() -%}
    case
        when {{ median_tip_gwei }} is null or {{ median_base_fee_percentile }} is null then null
        when
            {{ median_tip_gwei }} <= {{ cutoffs['sensitive_max_tip_gwei'] }}
            and {{ median_base_fee_percentile }} <= {{ cutoffs['sensitive_max_base_fee_percentile'] }}
            then 'sensitive'
        when {{ median_tip_gwei }} >= {{ cutoffs['insensitive_min_tip_gwei'] }} then 'insensitive'
        else 'moderate'
    end
{%- endmacro %}
