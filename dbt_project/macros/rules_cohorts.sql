{#-
    Rule cohorts: analysts' segment definitions from chainseg.yml (`marts.rule_cohorts`, passed to dbt as
    the var rule_cohorts), checked and compiled to SQL over the wallet feature model.

    A cohort:
        name: lowercase identifier, unique                     -> rule_segments.segment
        description: free text (documentation only)
        all_of: [condition, ...]   every one must hold
        any_of: [condition, ...]   at least one must hold (with all_of: all of all_of AND one of any_of)
    A condition is either a comparison of a feature or a holding:
        {field: <feature>, op: <op>, value: <number>}
            field: a numeric column of int_wallet_features_as_of (segments_rule_fields: buys_30d,
                   days_since_last_buy, tip_percentile, ...); op: = != > >= < <=. A wallet whose feature is
                   NULL (days_since_last_buy of a wallet that never bought) never satisfies it.
        {field: holds_collection, collection: <0x address>, op: = | != (default =), value: true | false
         (default true)}
            the wallet holds (or, with != / false, does not hold) at least one token of that NFT
            collection at the end of as_of (int_wallet_collections_held). The collection must have moved on
            some chain up to as_of (int_wallet_token_movements), else the rule is rejected as unknown.

    Any problem fails the build with "rule_cohorts: rule '<name>': <problem>": structure, fields and
    operators at parse time (before anything runs), unknown collections when the model runs.
    chainseg/config.py (RuleCohort) makes the same checks, except collections, when the file is loaded.
-#}

{% macro rules_operators() -%}
    {{- return(['=', '!=', '>', '>=', '<', '<=']) -}}
{%- endmacro %}


{#- NFT collections that moved up to as_of (lowercase addresses); none at parse time, and before the first
    build (`dbt compile` or `dbt docs generate` on a warehouse holding only raw tables): not checked then. -#}
{% macro rules_known_collections() -%}
    {#- the ref is taken before the execute check so that dbt knows the dependency at parse time -#}
    {%- set movements = ref('int_wallet_token_movements') -%}
    {%- if not execute or load_relation(movements) is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set found = run_query('select distinct collection_address from ' ~ movements) -%}
    {{- return(found.columns[0].values() | map('lower') | list) -}}
{%- endmacro %}


{% macro rules_fail(name, problem) -%}
    {{- exceptions.raise_compiler_error("rule_cohorts: rule '" ~ name ~ "': " ~ problem) -}}
{%- endmacro %}


{#- One condition, checked and normalised to {field, op, value, collection, is_holding}. -#}
{% macro rules_check_condition(name, condition, where, fields, collections) -%}
    {%- if condition is not mapping -%}
        {{- rules_fail(name, where ~ ' must be a mapping {field, op, value}, got ' ~ condition) -}}
    {%- endif -%}
    {%- for key in condition -%}
        {%- if key not in ('field', 'op', 'value', 'collection') -%}
            {{- rules_fail(name, where ~ ': unknown key \'' ~ key ~ '\' (use field, op, value, collection)') -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set field = condition.get('field') -%}
    {%- set op = condition.get('op') -%}
    {%- set value = condition.get('value') -%}
    {%- set collection = condition.get('collection') -%}
    {%- set is_bool = value is sameas true or value is sameas false -%}
    {%- if field == 'holds_collection' -%}
        {%- if collection is none or collection is not string
            or not modules.re.match('^0x[0-9a-fA-F]{40}$', collection) -%}
            {{- rules_fail(name, where ~ ': holds_collection needs collection: <0x + 40 hex digits>, got '
                ~ collection) -}}
        {%- endif -%}
        {%- set collection = collection | lower -%}
        {%- set op = '=' if op is none else op -%}
        {%- if op not in ('=', '!=') -%}
            {{- rules_fail(name, where ~ ': bad operator \'' ~ op ~ '\' for holds_collection (use = or !=)') -}}
        {%- endif -%}
        {%- if value is not none and not is_bool -%}
            {{- rules_fail(name, where ~ ': holds_collection takes value true or false, got ' ~ value) -}}
        {%- endif -%}
        {%- set holds = (value is none or value) == (op == '=') -%}
        {%- if collections is not none and collection not in collections -%}
            {{- rules_fail(name, where ~ ': unknown collection ' ~ collection
                ~ ' (no NFT of it moved on any chain up to as_of): fix the address or remove the rule') -}}
        {%- endif -%}
        {{- return({'field': field, 'op': '=' if holds else '!=', 'value': holds, 'collection': collection,
            'is_holding': true}) -}}
    {%- endif -%}
    {%- if field is none or field not in fields -%}
        {{- rules_fail(name, where ~ ': unknown field \'' ~ field ~ '\' (known: holds_collection, '
            ~ fields | join(', ') ~ ')') -}}
    {%- endif -%}
    {%- if collection is not none -%}
        {{- rules_fail(name, where ~ ': collection applies only to field holds_collection') -}}
    {%- endif -%}
    {%- if op not in rules_operators() -%}
        {{- rules_fail(name, where ~ ': bad operator \'' ~ op ~ '\' (use one of '
            ~ rules_operators() | join(' ') ~ ')') -}}
    {%- endif -%}
    {%- if value is none or is_bool or value is not number -%}
        {{- rules_fail(name, where ~ ': ' ~ field ~ ' compares with a number, got ' ~ value) -}}
    {%- endif -%}
    {{- return({'field': field, 'op': op, 'value': value, 'collection': none, 'is_holding': false}) -}}
{%- endmacro %}


{#-
    The var rule_cohorts, every cohort checked (see above), as a list of
    {name, description, all_of: [condition], any_of: [condition]}. Collections are checked when
    `collections` (rules_known_collections()) is not none.
-#}
{% macro rules_cohorts(collections=none) -%}
    {%- set cohorts = var('rule_cohorts', []) or [] -%}
    {%- if cohorts is string or cohorts is mapping or cohorts is not iterable -%}
        {{- exceptions.raise_compiler_error('rule_cohorts: expected a list of cohorts, got ' ~ cohorts) -}}
    {%- endif -%}
    {%- set fields = segments_rule_fields() -%}
    {%- set checked = [] -%}
    {%- set names = [] -%}
    {%- for cohort in cohorts -%}
        {%- set position = 'number ' ~ loop.index -%}
        {%- if cohort is not mapping -%}
            {{- rules_fail(position, 'expected a mapping {name, description, all_of, any_of}') -}}
        {%- endif -%}
        {%- set name = cohort.get('name') -%}
        {%- if name is not string or not modules.re.match('^[a-z][a-z0-9_]*$', name) -%}
            {{- rules_fail(name if name is string else position,
                'name must be a lowercase identifier (a-z, 0-9, _), got ' ~ name) -}}
        {%- endif -%}
        {%- if name in names -%}
            {{- rules_fail(name, 'the name is used by another cohort') -}}
        {%- endif -%}
        {%- do names.append(name) -%}
        {%- for key in cohort -%}
            {%- if key not in ('name', 'description', 'all_of', 'any_of') -%}
                {{- rules_fail(name, 'unknown key \'' ~ key ~ '\' (use name, description, all_of, any_of)') -}}
            {%- endif -%}
        {%- endfor -%}
        {%- set parts = {} -%}
        {%- for part in ('all_of', 'any_of') -%}
            {%- set given = cohort.get(part) or [] -%}
            {%- if given is string or given is mapping or given is not iterable -%}
                {{- rules_fail(name, part ~ ' must be a list of conditions') -}}
            {%- endif -%}
            {%- set conditions = [] -%}
            {%- for condition in given -%}
                {%- do conditions.append(rules_check_condition(
                    name, condition, part ~ ' condition ' ~ loop.index, fields, collections)) -%}
            {%- endfor -%}
            {%- do parts.update({part: conditions}) -%}
        {%- endfor -%}
        {%- if not parts['all_of'] and not parts['any_of'] -%}
            {{- rules_fail(name, 'no condition: give all_of and/or any_of') -}}
        {%- endif -%}
        {%- do checked.append({'name': name, 'description': cohort.get('description') or '',
            'all_of': parts['all_of'], 'any_of': parts['any_of']}) -%}
    {%- endfor -%}
    {{- return(checked) -}}
{%- endmacro %}


{#- A condition as SQL over `features` (int_wallet_features_as_of) and `holdings` (int_wallet_collections_held). -#}
{% macro rules_condition_sql(condition) -%}
    {%- if condition['is_holding'] -%}
        {{ 'not ' if not condition['value'] }}exists (
            select 1
            from holdings
            where
                holdings.chain_id = features.chain_id
                and holdings.wallet = features.wallet
                and holdings.collection_address = '{{ condition["collection"] }}'
        )
    {%- else -%}
        features.{{ condition['field'] }} {{ condition['op'] }} {{ condition['value'] }}
    {%- endif -%}
{%- endmacro %}


{#- A condition as the text rule_segments.matched_rule shows. -#}
{% macro rules_condition_text(condition) -%}
    {%- if condition['is_holding'] -%}
        {{- ('' if condition['value'] else 'not ') ~ 'holds_collection ' ~ condition['collection'] -}}
    {%- else -%}
        {{- condition['field'] ~ ' ' ~ condition['op'] ~ ' ' ~ condition['value'] -}}
    {%- endif -%}
{%- endmacro %}


{#-
    The members of one cohort: rows (segment, chain_id, wallet, matched_rule, matched_values) from
    `features`. matched_rule: the all_of conditions, then the first any_of condition (in the listed
    order) the wallet satisfies. matched_values: the wallet's value of every feature the cohort names, and
    its tokens held of every collection it names.
-#}
{% macro rules_cohort_sql(cohort) -%}
    {%- set all_text = [] -%}
    {%- for condition in cohort['all_of'] %}{% do all_text.append(rules_condition_text(condition)) %}{% endfor -%}
    {%- set shown = [] -%}
    {%- set value_parts = [] -%}
    {%- for condition in cohort['all_of'] + cohort['any_of'] -%}
        {%- if condition['is_holding'] -%}
            {%- set key = 'tokens_held(' ~ condition['collection'] ~ ')' -%}
            {%- set expression -%}
                (select holdings.tokens_held from holdings where holdings.chain_id = features.chain_id
                and holdings.wallet = features.wallet
                and holdings.collection_address = '{{ condition["collection"] }}')
            {%- endset -%}
        {%- else -%}
            {%- set key = condition['field'] -%}
            {%- set expression = 'features.' ~ condition['field'] -%}
        {%- endif -%}
        {%- if key not in shown -%}
            {%- do shown.append(key) -%}
            {%- do value_parts.append("'" ~ key ~ "=' || coalesce(cast(" ~ expression ~ " as "
                ~ dbt.type_string() ~ "), '" ~ ('0' if condition['is_holding'] else 'null') ~ "')") -%}
        {%- endif -%}
    {%- endfor %}
    select
        '{{ cohort["name"] }}' as segment,
        features.chain_id,
        features.wallet,
        {%- if cohort['any_of'] %}
        {% if all_text %}'{{ all_text | join(" and ") }} and ' || {% endif %}case
            {%- for condition in cohort['any_of'] %}
            when {{ rules_condition_sql(condition) }} then '{{ rules_condition_text(condition) }}'
            {%- endfor %}
        end as matched_rule,
        {%- else %}
        '{{ all_text | join(" and ") }}' as matched_rule,
        {%- endif %}
        {{ value_parts | join(" || '; ' || ") }} as matched_values
    {%- set predicates = [] -%}
    {%- for condition in cohort['all_of'] %}{% do predicates.append(rules_condition_sql(condition)) %}{% endfor -%}
    {%- if cohort['any_of'] -%}
        {%- set alternatives = [] -%}
        {%- for condition in cohort['any_of'] %}{% do alternatives.append(rules_condition_sql(condition)) %}{% endfor -%}
        {%- do predicates.append('(\n            ' ~ alternatives | join('\n            or ') ~ '\n        )') -%}
    {%- endif %}
    from features
    where
        {{ predicates | join('\n        and ') }}
{%- endmacro %}
